"""A ready nox session for any project using dbops.

In a noxfile::

    import nox
    from dbops.cli.nox import dbops_session

    nox.session(python=False, name="dbops")(dbops_session)

``nox -s dbops`` then runs the consistency check and the round trip (arguments after ``--`` go to both).
"""

from __future__ import annotations

from typing import Any

TASKS = ("consistency", "round-trip")


def dbops_session(session: Any) -> None:
    """Check the models, migrations and database with dbops: consistency, then the round trip."""
    for name in TASKS:
        session.run("dbops", name, *session.posargs, external=True)
