"""Child processes that can all be stopped at once, so an interrupted run leaves none behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

_children: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()


def run_child(args: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 1800) -> tuple[int, str]:
    """Run a command in its own process group; return its exit code and combined output."""
    proc = subprocess.Popen(
        list(args),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own group: pytest-xdist workers included
    )
    with _lock:
        _children.add(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, signal.SIGKILL)
        out, _ = proc.communicate()
        return 124, (out or "") + f"\ntimed out after {timeout:.0f} s"
    finally:
        with _lock:
            _children.discard(proc)
    return proc.returncode, out or ""


def _kill_group(proc: subprocess.Popen[str], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def terminate_children(grace: float = 3.0) -> int:
    """SIGTERM every running child's process group, SIGKILL what is left after ``grace``; return how many."""
    with _lock:
        procs = list(_children)
    for proc in procs:
        _kill_group(proc, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
    return len(procs)


def spawn_spare_builder(cwd: Path, server_url: str, template: str) -> None:
    """Start the detached process that clones the next spare of ``template`` (``python -m dbops.lifecycle.templates``).

    Detached on purpose: it outlives the command that asked for it. The URL, password included, travels
    in the child's environment, never on its command line (ps shows that).
    """
    env = {**os.environ, "DBOPS_SPARE_SERVER": server_url, "DBOPS_SPARE_TEMPLATE": template}
    subprocess.Popen(
        [sys.executable, "-m", "dbops.lifecycle.templates"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=cwd,
    )
