"""Shared preparation is race-free: several processes starting the pgserver backend at once all succeed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dbops.backends import servers
from dbops.backends.embedded import _copy_install
from dbops.backends.pgbin import find_pgbin
from dbops.core.errors import BackendUnavailable

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
PROCESSES = 4
PYPROJECT = '[project]\nname = "mini"\nversion = "0"\n[tool.dbops]\nmetadata = "models:metadata"\ndatabase = "mini"\n'
START = (
    "from dbops.backends.base import get_backend; from dbops.core.config import load_settings; "
    "print(get_backend(load_settings()).start().port)"
)


def _pgserver_bindir() -> Path:
    try:
        return find_pgbin("pgserver").bindir
    except BackendUnavailable as exc:
        pytest.skip(exc.message)


def _together(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command before waiting for any, so they really race."""
    procs = [
        subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in commands
    ]
    done = []
    for cmd, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(cmd, proc.returncode, out, err))
    return done


def test_several_processes_start_the_pgserver_backend_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = _pgserver_bindir()
    package = bindir.parent.parent
    # As root the server runs as an unprivileged user: binaries in a folder it cannot enter must be
    # copied next to the cluster first, which is the preparation the processes race for.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    shutil.copytree(package, private / package.name, symlinks=True)
    if (package.parent / "pgserver.libs").is_dir():
        shutil.copytree(package.parent / "pgserver.libs", private / "pgserver.libs", symlinks=True)
    project = tmp_path / "proj"
    shutil.copytree(REPO / "tests" / "fixtures" / "miniproj", project)
    (project / "pyproject.toml").write_text(PYPROJECT)
    registry = tmp_path / "registry"
    monkeypatch.setenv("DBOPS_RUNTIME_DIR", str(registry))  # this test's servers only
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    env.update(
        PYTHONPATH=str(private),
        DBOPS_BACKEND="embedded",
        DBOPS_PG_VERSION="pgserver",
        DBOPS_RUNTIME_DIR=str(registry),
        DBOPS_IDLE_STOP="0",
    )
    try:
        runs = _together([[sys.executable, "-c", START]] * PROCESSES, project, env)
        for run in runs:
            assert run.returncode == 0, run.stderr
        ports = {run.stdout.strip() for run in runs}
        assert len(ports) == 1 and ports.pop().isdigit()
        [entry] = servers.entries()
        if os.geteuid() == 0:
            copies = list(Path(entry.home).parent.glob("pgbin16/*/pginstall/bin/postgres"))
            assert len(copies) == 1
            assert not list(Path(entry.home).parent.glob(".pgbin16-*"))  # no scratch folder left behind
    finally:
        for server in servers.entries():
            servers.stop_server(server, delete_data=True)


def test_concurrent_copies_of_the_binaries_end_in_one_complete_copy(tmp_path: Path) -> None:
    bindir = _pgserver_bindir()
    install = bindir.parent
    extra = [install.parent.parent / "pgserver.libs"]
    base = tmp_path / "pgbin16"
    copy = (
        f"from pathlib import Path; from dbops.backends.embedded import _copy_install; "
        f"_copy_install(Path({str(install)!r}), [Path({str(extra[0])!r})], Path({str(base)!r}))"
    )
    runs = _together([[sys.executable, "-c", copy]] * PROCESSES, tmp_path, dict(os.environ))
    for run in runs:
        assert run.returncode == 0, run.stderr
    postgres = base / install.parent.name / install.name / "bin" / "postgres"
    version = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and "16" in version.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pgbin16"]  # scratch folders all gone
    _copy_install(install, extra, base)  # a copy over a complete one is harmless
    assert postgres.is_file()
