"""The URL variables a migration sets for env.py are restored after it and never leak into child processes."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from dbops.migrations.envguard import database_env, original_environ


def test_variables_set_for_the_call_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside: every named variable is the URL; outside (and for child processes): what was there before."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://dev/app")
    monkeypatch.delenv("APP_DB", raising=False)
    url = make_url("postgresql+psycopg://u:secret@localhost:5432/scratch")
    with database_env(("DATABASE_URL", "APP_DB"), url):
        assert (
            os.environ["DATABASE_URL"] == os.environ["APP_DB"] == "postgresql+psycopg://u:secret@localhost:5432/scratch"
        )
        child = original_environ()
        assert child["DATABASE_URL"] == "postgresql://dev/app" and "APP_DB" not in child
        with database_env(("DATABASE_URL",), url.set(database="inner")):
            assert original_environ()["DATABASE_URL"] == "postgresql://dev/app"
        assert os.environ["DATABASE_URL"].endswith("/scratch")
    assert os.environ["DATABASE_URL"] == "postgresql://dev/app" and "APP_DB" not in os.environ
