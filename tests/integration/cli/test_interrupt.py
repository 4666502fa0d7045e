"""Ctrl-C and SIGTERM at several points of real runs: no orphans, no half-built template, and the next run recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from cli_support import INVOKE, REPO, invoke, make_project

from dbops import migrations
from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.dburl import URL
from dbops.core.urls import libpq_url, plain_url, with_database
from dbops.lifecycle import templates


def _processes_with(marker: str) -> list[str]:
    """Command lines of live processes whose environment carries ``marker`` (ours and our children's)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def _wait_for_session(server: URL, pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq_url(server), autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = "SELECT 1 FROM pg_stat_activity WHERE application_name = %s"
            if conn.execute(query, (f"dbops-{pid}",)).fetchone():
                return
            time.sleep(0.02)
    raise AssertionError(f"process {pid} never connected")


def _interrupt(server: URL, args: list[str], env: dict[str, str], after: float, sig: int) -> tuple[int, str, str]:
    marker = f"DBOPS_TEST_RUN={uuid.uuid4().hex}"
    key, _, value = marker.partition("=")
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("DBOPS_")}, **env, key: value}
    proc = subprocess.Popen(
        [*INVOKE, *args], cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Count from the moment the run talks to the server, so startup speed does not move the point of interruption.
    _wait_for_session(server, proc.pid)
    time.sleep(after)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    # A detached spare-clone builder may still be finishing; it is short-lived by design.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _processes_with(marker):
        time.sleep(0.2)
    leftovers = [c for c in _processes_with(marker) if "dbops.lifecycle.templates" not in c]
    assert leftovers == [], leftovers
    _interrupt.last_pid = proc.pid  # type: ignore[attr-defined]
    return proc.returncode, out, err


def _templates_complete(server: URL, settings: Settings) -> None:
    """Every template that exists is a finished one: migrated to some revision, never a half build."""
    # Only this project's templates: other workers build and drop their own on the same server meanwhile.
    own = templates.template_family(settings).rsplit("_", 1)[0] + "_"
    for name in database.list_databases(server, own):
        if name.startswith(own + "models_"):
            continue  # the models' template: create_all built it, no history (and no version table) in it
        try:
            conn = psycopg.connect(libpq_url(with_database(server, name)))
        except psycopg.OperationalError:
            continue  # replaced by a newer build between listing and connecting: gone whole, never half
        with conn:
            found = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
            assert found is not None and found[0], f"template {name} has no alembic_version table"
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert row is not None, f"{name} has no alembic_version"


def test_interrupted_template_build_leaves_nothing_half_built(
    pg_server: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "tiny")
    monkeypatch.syspath_prepend(str(root))
    settings = load_settings(root).replace(database=f"tiny{uuid.uuid4().hex[:6]}", url=None)

    def ctrl_c(url: URL) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        templates.ensure_template(settings, pg_server, "head", build=ctrl_c)
    assert database.list_databases(pg_server, f"dbops_bld_{settings.database}") == []
    assert database.list_databases(pg_server, f"{templates.TEMPLATE_PREFIX}{settings.database}") == []
    name = templates.ensure_template(settings, pg_server, "head", build=lambda url: None)
    assert database.exists(pg_server, name)
    database.drop(pg_server, name)


@pytest.mark.parametrize(
    ("args", "after"), [(["--naive"], 0.0), (["--naive"], 0.4), (["--naive"], 1.0), ([], 0.0), ([], 0.2)]
)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_reset_db_recovers(
    pg_server: URL, dbops_settings: Settings, args: list[str], after: float, sig: int
) -> None:
    name = f"t_intr_{uuid.uuid4().hex[:6]}"
    env = {"DATABASE_URL": plain_url(with_database(pg_server, name).set(drivername="postgresql"))}
    code, _, err = _interrupt(pg_server, ["reset-db", *args], env, after, sig)
    # 130: caught and cleaned up. -sig or -SIGINT: the signal (or the KeyboardInterrupt it became)
    # landed while Python was already shutting down after the work was done or cleaned up; the
    # invariants below (no leftovers, no half-built template, a clean rerun) are what must hold.
    assert code in (0, 130, -sig, -signal.SIGINT), err
    assert "Traceback" not in err
    if code == 130:
        assert "interrupted" in err
    _templates_complete(pg_server, dbops_settings)
    rerun = invoke("reset-db", env=env)
    assert rerun.code == 0, rerun.text
    assert "to head" in rerun.out
    database.drop(pg_server, name)


@pytest.mark.parametrize("after", [0.1, 0.5, 1.0])
def test_interrupted_migrate_leaves_a_consistent_revision(
    pg_server: URL, dbops_settings: Settings, after: float
) -> None:
    name = f"t_intr_mig_{uuid.uuid4().hex[:6]}"
    env = {"DATABASE_URL": plain_url(with_database(pg_server, name).set(drivername="postgresql"))}
    code, _, err = _interrupt(pg_server, ["migrate"], env, after, signal.SIGINT)
    assert code in (0, 130, -signal.SIGINT), err
    current = invoke("migrate.current", env=env)
    assert current.code == 0 and current.out.strip(), current.text  # some revision, or base: never a half one
    finish = invoke("migrate", env=env)
    head = migrations.history(dbops_settings)[-1][0]
    assert finish.code == 0 and head in finish.out, finish.text
    database.drop(pg_server, name)


def test_interrupted_full_check_stops_its_tools_and_drops_its_databases(pg_server: URL) -> None:
    env = {"DATABASE_URL": plain_url(pg_server.set(drivername="postgresql"))}
    code, out, err = _interrupt(pg_server, ["full-check"], env, 3.0, signal.SIGTERM)
    assert code == 130, out + err
    assert "interrupted" in err
    pid = _interrupt.last_pid  # type: ignore[attr-defined]
    assert database.list_databases(pg_server, f"billing_run{pid}_") == []
