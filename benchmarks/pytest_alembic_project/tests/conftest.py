"""pytest-alembic's built-in tests pointed at this project's migrations (for bench_consistency.py)."""

from __future__ import annotations

import os

import pytest
from pytest_alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine


@pytest.fixture()
def alembic_config() -> Config:
    """The project's alembic.ini."""
    return Config(config_options={"file": os.environ["BENCH_ALEMBIC_INI"]})


@pytest.fixture()
def alembic_engine() -> Engine:
    """An empty database, named by the benchmark."""
    return create_engine(os.environ["BENCH_EMPTY_URL"])
