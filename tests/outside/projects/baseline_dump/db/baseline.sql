-- The schema as it was when the project adopted Alembic (revision 0001_adopted).
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer text NOT NULL
);
