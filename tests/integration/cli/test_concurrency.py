"""Two runs at once: in one checkout they share a server but not databases; two checkouts never share a server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import INVOKE, invoke, make_project

PROJECT = (
    'lint_paths = ["models.py"]\ntypecheck_paths = ["models.py"]\nunit_tests = "tests"\nintegration_tests = "tests"\n'
)


def _checkout(root: Path) -> Path:
    make_project(root, pyproject_extra=PROJECT)
    (root / "tests").mkdir()
    (root / "tests" / "test_nothing.py").write_text("def test_true() -> None:\n    assert 2 * 2 == 4\n")
    return root


@pytest.fixture()
def checkouts(tmp_path: Path) -> Iterator[list[Path]]:
    """Two copies of a small project, each using its own embedded cluster; stopped afterwards."""
    roots = [_checkout(tmp_path / "one"), _checkout(tmp_path / "two")]
    yield roots
    for root in roots:
        invoke("db.stop", "--destroy", cwd=root, env={"PYTHONPATH": str(root)})


def _env(root: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    return {**keep, "PYTHONPATH": str(root)}


def test_two_full_checks_in_one_checkout_both_pass(checkouts: list[Path]) -> None:
    root = checkouts[0]
    procs = [
        subprocess.Popen(
            [*INVOKE, "full-check", "--no-cache", "--json", str(root / f"s{i}.json")],
            cwd=root,
            env=_env(root),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, out + err
    for i in range(2):
        summary = json.loads((root / f"s{i}.json").read_text())
        assert {s["status"] for s in summary["steps"]} == {"passed"}


def test_two_checkouts_get_two_servers(checkouts: list[Path]) -> None:
    urls = []
    for root in checkouts:
        run = invoke("db.up", cwd=root, env={"PYTHONPATH": str(root)})
        assert run.code == 0, run.text
        urls.append(run.out.strip())
    ports = [re.search(r"127\.0\.0\.1:(\d+)/", url) for url in urls]
    assert all(ports), urls
    assert ports[0].group(1) != ports[1].group(1)  # type: ignore[union-attr]
    statuses = [invoke("db.status", cwd=root, env={"PYTHONPATH": str(root)}).out for root in checkouts]
    assert statuses[0] != statuses[1] and all("running" in s for s in statuses)
