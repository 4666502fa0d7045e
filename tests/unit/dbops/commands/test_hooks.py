"""The pre-commit hook: installed where git looks for it, never over somebody else's without --force."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dbops.commands.hooks import install_pre_commit
from dbops.core.errors import ConfigError


def _repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_installs_an_executable_hook_git_runs(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    hook = install_pre_commit(root, "bin/check.sh")
    assert hook == root / ".git" / "hooks" / "pre-commit"
    assert hook.read_text().endswith("exec bin/check.sh\n") and hook.stat().st_mode & 0o111
    assert install_pre_commit(root, "bin/check.sh") == hook  # ours: reinstalling is fine


def test_someone_elses_hook_stays_unless_forced(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    theirs = root / ".git" / "hooks" / "pre-commit"
    theirs.write_text("#!/bin/sh\nexec make lint\n")
    with pytest.raises(ConfigError) as info:
        install_pre_commit(root, "bin/check.sh")
    assert "is not ours" in info.value.message and "--force" in info.value.hint
    assert theirs.read_text() == "#!/bin/sh\nexec make lint\n"
    install_pre_commit(root, "bin/check.sh", force=True)
    assert "bin/check.sh" in theirs.read_text()


def test_core_hooks_path_is_respected(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    subprocess.run(["git", "config", "core.hooksPath", "githooks"], cwd=root, check=True)
    assert install_pre_commit(root, "bin/check.sh") == root / "githooks" / "pre-commit"


def test_outside_a_git_checkout_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a git checkout"):
        install_pre_commit(tmp_path, "bin/check.sh")
