"""Loose SQL equality against PostgreSQL's own deparsing: what the model says equals what pg_catalog prints."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import URL

from dbops.checks.sqlnorm import normalize_sql
from dbops.core import database

SETUP = [
    "CREATE TYPE kind AS ENUM ('purchase', 'grant', 'refund', 'consume')",
    "CREATE TABLE t (id int, n int, price numeric(10, 2), code varchar(20), email varchar(255), kind kind,"
    " starts timestamptz, ends timestamptz)",
]
# (model-side expression, a PostgreSQL-equivalent spelling that must compare equal)
SAME = [
    "price >= 0",
    "code ~ '^[A-Z]{3}$'",
    "email = lower(email)",
    "n BETWEEN 1 AND 12",
    "n IS NULL OR n > 0",
    "kind IN ('purchase', 'grant') AND n > 0 OR kind = 'consume' AND n < 0",
    "code NOT IN ('a', 'b')",
    "code LIKE 'x%'",
    "code ILIKE 'Y%'",
    "ends > starts",
    "n != 3",
]
# Expressions that differ only where a loose comparison must still notice.
DIFFERENT = [
    ("code ~ '^[A-Z]{3}$'", "code ~ '^[a-z]{3}$'"),  # literals keep their case
    ("price >= 0", "price > 0"),
    ("n BETWEEN 1 AND 12", "n BETWEEN 1 AND 11"),
    ("kind IN ('purchase', 'grant')", "kind IN ('purchase', 'refund')"),
]


@pytest.fixture()
def deparse(mini_empty: URL, run_sql: Callable[..., None]) -> Callable[[str], str]:
    """deparse(expr): PostgreSQL's pg_get_constraintdef of CHECK (expr) on a scratch table."""
    run_sql(mini_empty, *SETUP)
    counter = iter(range(1000))

    def go(expr: str) -> str:
        name = f"ck_{next(counter)}"
        with database.connect(mini_empty) as conn:
            conn.execute(f"ALTER TABLE t ADD CONSTRAINT {name} CHECK ({expr})")  # type: ignore[arg-type]
            row = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (name,))
            return str(row.fetchone()[0])  # type: ignore[index]

    return go


@pytest.mark.parametrize("expr", SAME)
def test_model_expression_equals_postgres_deparsed(deparse: Callable[[str], str], expr: str) -> None:
    printed = deparse(expr)
    assert normalize_sql(expr) == normalize_sql(printed), (expr, printed)


@pytest.mark.parametrize(("model", "database_side"), DIFFERENT)
def test_real_differences_survive_normalization(deparse: Callable[[str], str], model: str, database_side: str) -> None:
    assert normalize_sql(model) != normalize_sql(deparse(database_side))


def test_partial_index_predicate(mini_empty: URL, run_sql: Callable[..., None]) -> None:
    run_sql(mini_empty, *SETUP, "CREATE INDEX ix_t ON t (n) WHERE kind IN ('purchase', 'grant') AND ends IS NULL")
    with database.connect(mini_empty) as conn:
        row = conn.execute("SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'ix_t'::regclass")
        printed = str(row.fetchone()[0])  # type: ignore[index]
    assert normalize_sql("kind IN ('purchase', 'grant') AND ends IS NULL") == normalize_sql(printed)
