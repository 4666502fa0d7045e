"""The git pre-commit hook: a short script that runs the project's fast checks before each commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dbops.core.errors import ConfigError

MARK = "# installed by invoke hooks.install"


def hook_path(root: Path) -> Path:
    """Where git looks for the pre-commit hook (also in a worktree or with core.hooksPath)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks/pre-commit"], cwd=root, capture_output=True, text=True
        )
    except FileNotFoundError:
        out = None
    if out is None or out.returncode != 0:
        raise ConfigError(f"{root} is not a git checkout (or git is not installed)", "run it inside a git clone")
    path = Path(out.stdout.strip())
    return path if path.is_absolute() else root / path


def install_pre_commit(root: Path, command: str, force: bool = False) -> Path:
    """Install a hook running ``command``; a hook that is not ours is replaced only with ``force``."""
    hook = hook_path(root)
    body = f"#!/bin/sh\n{MARK}\nexec {command}\n"
    if hook.exists() and hook.read_text(errors="replace") != body and not force:
        raise ConfigError(f"{hook} exists and is not ours", "rerun with --force to replace it")
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(body)
    hook.chmod(0o755)
    return hook
