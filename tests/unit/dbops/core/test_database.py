"""guard_drop: the reset guard decides before any connection is made."""

from __future__ import annotations

import pytest

from dbops.core.database import guard_drop
from dbops.core.errors import UnsafeOperation
from dbops.core.urls import parse_url

LOCAL = parse_url("postgresql://u:pw@127.0.0.1:5432/postgres")
REMOTE = parse_url("postgresql://u:pw@db.example.com:5432/postgres")


@pytest.mark.parametrize("name", ["postgres", "template0", "template1"])
def test_system_databases_are_never_dropped_even_locally(name: str) -> None:
    with pytest.raises(UnsafeOperation, match="system database"):
        guard_drop(LOCAL, name, disposable=(name,))


def test_a_local_project_database_may_be_dropped() -> None:
    guard_drop(LOCAL, "billing")
    guard_drop(parse_url("postgresql://u@/postgres?host=/var/run/postgresql"), "billing")  # unix socket


def test_a_remote_database_only_when_listed_as_disposable() -> None:
    with pytest.raises(UnsafeOperation) as info:
        guard_drop(REMOTE, "billing")
    assert "non-local host" in info.value.message and "disposable" in info.value.hint
    assert "pw" not in info.value.one_line()
    guard_drop(REMOTE, "billing_ci", disposable=("billing_ci",))
    with pytest.raises(UnsafeOperation):
        guard_drop(REMOTE, "billing", disposable=("billing_ci",))
