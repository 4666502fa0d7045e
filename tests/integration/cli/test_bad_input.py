"""Bad input, as a user types it: one clear line, a documented exit code, never a traceback."""

from __future__ import annotations

import os
import pwd
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import REPO, Run, invoke, make_project

from dbops.backends import orphans
from dbops.core.dburl import URL
from dbops.core.urls import plain_url, with_database

SENTINEL = "S3ntinel-pw-93x"


def _one_clean_line(run: Run) -> str:
    lines = [ln for ln in run.err.splitlines() if ln.strip()]
    assert "Traceback" not in run.text, run.text
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: ")
    assert SENTINEL not in run.text
    return lines[0]


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A port where a non-PostgreSQL program listens and hangs up."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _server(pg_server: URL) -> str:
    return plain_url(pg_server.set(drivername="postgresql"))


CASES: dict[str, tuple[Callable[..., tuple[list[str], dict[str, str], Path | None]], int, str]] = {
    "malformed URL": (
        lambda **k: (["db.up"], {"DATABASE_URL": f"postgresql://u:{SENTINEL}@h:port/db"}, None),
        2,
        "malformed database URL",
    ),
    "not PostgreSQL": (
        lambda **k: (["db.up"], {"DATABASE_URL": f"mysql://u:{SENTINEL}@h/db"}, None),
        2,
        "unsupported database URL scheme",
    ),
    "unknown backend": (lambda **k: (["db.up", "--backend", "oracle"], {}, None), 2, "unknown backend 'oracle'"),
    "unreachable host": (
        lambda **k: (["db.up"], {"DATABASE_URL": f"postgresql://u:{SENTINEL}@127.0.0.1:1/db"}, None),
        3,
        "cannot connect",
    ),
    "not a PostgreSQL port": (
        lambda closed_port, **k: (
            ["db.up"],
            {"DATABASE_URL": f"postgresql://u:{SENTINEL}@127.0.0.1:{closed_port}/db"},
            None,
        ),
        3,
        "cannot connect",
    ),
    "wrong password": (
        lambda pg_server, **k: (["db.up"], {"DATABASE_URL": _server(pg_server.set(password=SENTINEL))}, None),
        3,
        "authentication failed",
    ),
    "missing database": (
        lambda pg_server, **k: (
            ["migrate.down", "--revision", "base"],
            {"DATABASE_URL": _server(with_database(pg_server, "no_such_db"))},
            None,
        ),
        3,
        "does not exist",
    ),
    "refused drop of a system database": (
        lambda pg_server, **k: (["reset-db"], {"DATABASE_URL": _server(with_database(pg_server, "template1"))}, None),
        2,
        "system database",
    ),
    "refused drop on a remote host": (
        lambda **k: (["reset-db"], {"DATABASE_URL": f"postgresql://u:{SENTINEL}@db.example.invalid/billing"}, None),
        2,
        "non-local host 'db.example.invalid'",
    ),
    "no PostgreSQL binaries": (
        lambda **k: (["db.up"], {"DBOPS_PG_VERSION": "99"}, None),
        3,
        "no PostgreSQL 99 server binaries",
    ),
    "Docker not running": (
        lambda **k: (["db.up", "--backend", "docker"], {"DOCKER_HOST": "unix:///nonexistent.sock"}, None),
        3,
        "no Docker engine is reachable",
    ),
    "cache directory not writable": (
        lambda **k: (["db.up"], {"DBOPS_CACHE_DIR": "/dev/null/cache"}, None),
        2,
        "not writable",
    ),
    "cluster home of another user": (
        lambda tmp_path, **k: _home_of_another_user(tmp_path),
        2,
        "is not a folder of this user's",
    ),
    "two heads": (
        lambda tmp_path, **k: (
            ["migrate"],
            {},
            make_project(tmp_path / "p", revisions=[("r1", None, "a"), ("r2", "r1", "b"), ("r3", "r1", "c")]),
        ),
        1,
        'the history has 2 heads: r2, r3 (fix: merge them: alembic merge -m "merge heads" r2 r3)',
    ),
    "missing alembic.ini": (
        lambda tmp_path, **k: (["migrate.history"], {}, make_project(tmp_path / "p", alembic_ini=False)),
        2,
        "alembic.ini",
    ),
    "metadata path that does not import": (
        lambda tmp_path, **k: (["doctor"], {}, make_project(tmp_path / "p", pyproject_extra="")),
        2,
        None,
    ),
    "models module that raises on import": (
        lambda tmp_path, **k: (
            ["migrate.new", "-m", "x"],
            {},
            make_project(tmp_path / "p", models="raise RuntimeError('boom in models')"),
        ),
        2,
        "RuntimeError: boom in models (at models.py:1)",
    ),
    "migration with a syntax error": (
        lambda tmp_path, **k: (["migrate.history"], {}, _broken_revision(make_project(tmp_path / "p"))),
        1,
        "syntax error",
    ),
    "duplicate revision id": (
        lambda tmp_path, **k: (
            ["migrate.history"],
            {},
            make_project(
                tmp_path / "p",
                revisions=[("r1", None, "a"), ("r1b", None, "b")],
            ),
        ),
        1,
        None,
    ),
    "invalid pyproject.toml": (
        lambda tmp_path, **k: (["migrate.history"], {}, _bad_toml(tmp_path / "p")),
        2,
        "not valid TOML",
    ),
    "unknown [tool.dbops] key": (
        lambda tmp_path, **k: (
            ["migrate.history"],
            {},
            make_project(tmp_path / "p", pyproject_extra='colour = "blue"'),
        ),
        2,
        "unknown [tool.dbops] keys: colour",
    ),
}


def _broken_revision(root: Path) -> Path:
    (root / "migrations" / "versions" / "r2.py").write_text('revision = "r2"\ndown_revision = "r1"\ndef upgrade(:\n')
    return root


def _home_of_another_user(tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """As root, a project the service user cannot reach, whose temp-folder home somebody else made first."""
    if os.geteuid() != 0:
        pytest.skip("only a run as root keeps clusters in the temp folder")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    root = make_project(private / "p")
    temp = tmp_path / "temp"
    home = temp / orphans.home_for(root / ".dbops").name
    home.mkdir(parents=True)
    nobody = pwd.getpwnam("nobody")
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    return ["db.up"], {"TMPDIR": str(temp)}, root


def _bad_toml(root: Path) -> Path:
    make_project(root)
    (root / "pyproject.toml").write_text("[tool.dbops\nmetadata = 1\n")
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_with_a_documented_code(
    case: str, pg_server: URL, closed_port: int, tmp_path: Path
) -> None:
    build, code, needle = CASES[case]
    args, env, cwd = build(pg_server=pg_server, closed_port=closed_port, tmp_path=tmp_path)
    if case == "metadata path that does not import":
        text = (cwd / "pyproject.toml").read_text().replace("models:metadata", "nowhere.models:metadata")
        (cwd / "pyproject.toml").write_text(text)
        args = ["consistency", "--no-cache"]  # a reset needs no models; comparing with them does
        needle = "metadata module 'nowhere.models' cannot be imported"
    if case == "duplicate revision id":
        # Two files, one id: the second file claims r1 as well.
        dup = cwd / "migrations" / "versions" / "r1b.py"
        dup.write_text(dup.read_text().replace('revision = "r1b"', 'revision = "r1"'))
        needle = "revision id r1 is declared by both migrations/versions/r1.py and migrations/versions/r1b.py"
    run = invoke(*args, cwd=cwd or REPO, env={**env, "PYTHONPATH": str(cwd or REPO)})
    line = _one_clean_line(run)
    assert run.code == code, run.text
    assert needle is None or needle in line, line
    assert "(fix: " in line, line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    cwd = make_project(tmp_path / "p", models="raise RuntimeError('boom in models')")
    run = invoke("--debug", "migrate.new", "-m", "x", cwd=cwd, env={"PYTHONPATH": str(cwd)})
    assert run.code == 2
    assert "Traceback" in run.err and "boom in models" in run.err
