"""nox sessions: thin variants over one helper (`nox -l`)."""

from __future__ import annotations

import os
import shutil
import sys

import nox

# uv builds environments in seconds; plain virtualenv where uv is not installed.
nox.options.default_venv_backend = "uv|virtualenv" if shutil.which("uv") else "virtualenv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = False

# The Python versions pyproject.toml's classifiers declare.
PYTHONS = nox.project.python_versions(nox.project.load_toml("pyproject.toml"))
# embedded PostgreSQL 15 from the system, embedded 16 from the pgserver wheel, and Docker.
DATABASES = {
    "pg15": {"DBOPS_BACKEND": "embedded", "DBOPS_PG_VERSION": "15"},
    "pg16": {"DBOPS_BACKEND": "embedded", "DBOPS_PG_VERSION": "pgserver"},
    "docker": {"DBOPS_BACKEND": "docker", "DBOPS_DOCKER_IMAGE": "dbops/postgres:15-local"},
}


def run_in_env(
    session: nox.Session, *commands: list[str], extras: str = "dev", env: dict[str, str] | None = None
) -> None:
    """Install the project with ``extras`` and run each command with ``env``; every session is this."""
    session.install("-e", f".[{extras}]")
    # Each environment gets its own cluster cache, so sessions never share a server by accident.
    cache = os.path.join(".dbops", "nox", session.name.replace("(", "_").replace(")", "").replace("'", ""))
    full_env = {"DBOPS_CACHE_DIR": cache, **(env or {})}
    try:
        for command in commands:
            session.run(*command, env=full_env)
    finally:
        # A CI job leaves no server behind (locally the server is kept: the next session starts faster).
        if os.environ.get("CI") and not os.environ.get("DBOPS_KEEP_SERVER"):
            session.run("invoke", "db.stop", "--destroy", env=full_env, success_codes=[0, 3])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format check, ruff lint and mypy (strict on src/)."""
    run_in_env(session, ["invoke", "lint"])


@nox.session
def consistency(session: nox.Session) -> None:
    """Model-table consistency of a freshly reset database."""
    run_in_env(session, ["invoke", "reset-db", "--no-seed"], ["invoke", "consistency", *session.posargs])


@nox.session(name="full-check")
def full_check(session: nox.Session) -> None:
    """The whole pre-commit pipeline (invoke full-check)."""
    run_in_env(session, ["invoke", "full-check", *session.posargs])


@nox.session(python=PYTHONS)
@nox.parametrize("db", list(DATABASES))
def tests(session: nox.Session, db: str) -> None:
    """Unit and integration tests on one Python version and one database backend."""
    if db == "pg16" and session.python == "3.13":
        session.skip("pgserver has no wheel for Python 3.13")
    extras = "dev,pgserver" if db == "pg16" else "dev"
    # The same command line as `invoke test --all` (dbops.commands.check.pytest_args); posargs select with -k.
    # Tests that copy this project and run whole pipelines over it (minutes, the same on every Python and
    # backend) run once per CI run, in `invoke test --all`; the cells keep every other test.
    once = "not test_test_selection and not test_review_billing and not test_sprint_scenario"
    select = ["-k", f"({' '.join(session.posargs)}) and {once}" if session.posargs else once]
    args = ["invoke", "test", "--all", "--workers", "2", *select]
    # The outside projects' own venvs (SQLAlchemy 1.3 to 2, real projects) do not depend on dbops's Python or
    # backend: the outside sessions and `invoke test --all` run them; the matrix cells leave them out.
    env = {**DATABASES[db], "DBOPS_TEST_PROJECT_VENVS": "0"}
    run_in_env(session, args, extras=extras, env=env)


@nox.session
@nox.parametrize("sqlalchemy", ["1.3", "1.4", "2"])
def outside(session: nox.Session, sqlalchemy: str) -> None:
    """dbops on a project whose own interpreter has SQLAlchemy 1.3, 1.4 or 2 (and its driver)."""
    args = ["pytest", "tests/outside/test_own_interpreter.py", "-q", "-p", "no:cacheprovider"]
    run_in_env(session, args, env={"DBOPS_TEST_SQLALCHEMY": sqlalchemy})


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run with nox: nox -l")
