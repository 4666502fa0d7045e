"""The DDL the models' create_all emits on PostgreSQL, as a SQL file: a production schema to start a history from.

usage: python schema_sql.py module:attribute.path > baseline.sql   (run by the project's interpreter)

JupyterHub and Buildbot create a new database this way (create_all, then stamp head); their histories
start from a schema they do not ship. This file stands for a user's dump of such a production database.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from sqlalchemy import create_mock_engine


def main() -> None:
    """Print the DDL, one statement per line."""
    module, _, attr = sys.argv[1].partition(":")
    metadata: Any = importlib.import_module(module)
    for part in attr.split("."):
        metadata = getattr(metadata, part)

    def emit(sql: Any, *args: Any, **kwargs: Any) -> None:
        print(str(sql.compile(dialect=engine.dialect)).strip() + ";")

    engine = create_mock_engine("postgresql+psycopg2://", emit)
    metadata.create_all(engine, checkfirst=False)


if __name__ == "__main__":
    main()
