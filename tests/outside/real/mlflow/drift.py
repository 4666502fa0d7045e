"""A seeded drift: a model column no migration creates, added through the project's own metadata (models = [...])."""

import sqlalchemy as sa
from mlflow.store.db.base_sql_model import Base

Base.metadata.tables["experiments"].append_column(sa.Column("dbops_drift", sa.Integer))
