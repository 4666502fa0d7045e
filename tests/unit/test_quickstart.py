"""The README's quickstart is what CI runs: the two commands appear verbatim in .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", quick, re.S)]


def test_readme_has_two_quickstart_commands_and_ci_runs_them() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in commands:
        assert command in ci, f".ci/run does not run the README command: {command}"


def test_every_task_and_session_has_a_docstring() -> None:
    import ast

    # The generic tasks live in the dbops library (its `dbops` command runs them too); tasks.py adds the rest.
    task_files = ("tasks.py", "src/dbops/cli/tasks.py", "src/dbops/cli/checktasks.py")
    for files, decorators, minimum in (
        (task_files, {"task"}, 20),
        (("noxfile.py",), {"session", "parametrize"}, 4),
    ):
        found = 0
        for name in files:
            tree = ast.parse((ROOT / name).read_text())
            for node in tree.body:
                if not isinstance(node, ast.FunctionDef):
                    continue
                names = {
                    getattr(d.func if isinstance(d, ast.Call) else d, "attr", None)
                    or getattr(d.func if isinstance(d, ast.Call) else d, "id", None)
                    for d in node.decorator_list
                }
                if names & decorators:
                    found += 1
                    doc = ast.get_docstring(node)
                    assert doc and "\n" not in doc.strip(), f"{name}: {node.name} needs a one-line docstring"
        assert found >= minimum, (files, found)
