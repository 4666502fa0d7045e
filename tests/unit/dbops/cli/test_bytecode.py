"""dbops writes the bytecode of its own modules that invoke declined to write, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys, types
    from pathlib import Path
    from dbops.cli import cache_library_bytecode

    base = Path(sys.argv[1])
    for name in ("dbops.zz_settled", "dbops.zz_fresh", "dbops.zz_readonly", "project_mod"):
        module = types.ModuleType(name)
        module.__file__ = str(base / (name + ".py"))
        module.__cached__ = str(base / "__pycache__" / (name + ".pyc"))
        sys.modules[name] = module
    sys.modules["dbops.zz_readonly"].__cached__ = str(base / "ro" / "deeper" / "x.pyc")
    cache_library_bytecode()
    """
)


def _run(base: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(base)], env={**clean, **env}, capture_output=True, text=True, check=False
    )


def test_settled_dbops_modules_get_bytecode_others_do_not(tmp_path: Path) -> None:
    old = time.time() - 60
    for name in ("dbops.zz_settled", "dbops.zz_readonly", "project_mod"):
        (tmp_path / f"{name}.py").write_text("X = 1\n")
        os.utime(tmp_path / f"{name}.py", (old, old))
    (tmp_path / "dbops.zz_fresh.py").write_text("X = 2\n")  # modified just now: perhaps mid-edit
    # Where no bytecode folder can be made (a file stands there, which stops root as well as anyone).
    (tmp_path / "ro").write_text("")
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "__pycache__" / "dbops.zz_settled.pyc").is_file()
    assert not (tmp_path / "__pycache__" / "dbops.zz_fresh.pyc").exists()
    assert not (tmp_path / "__pycache__" / "project_mod.pyc").exists()


def test_python_own_setting_wins(tmp_path: Path) -> None:
    old = time.time() - 60
    for name in ("dbops.zz_settled", "dbops.zz_fresh", "dbops.zz_readonly", "project_mod"):
        (tmp_path / f"{name}.py").write_text("X = 1\n")
        os.utime(tmp_path / f"{name}.py", (old, old))
    proc = _run(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "__pycache__").exists()
