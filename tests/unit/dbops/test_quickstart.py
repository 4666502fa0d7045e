"""The README's quickstart is what CI runs: the two commands appear verbatim in .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


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
    for name in ("tasks.py", "noxfile.py"):
        source = (ROOT / name).read_text()
        for match in re.finditer(r"^def (\w+)\(c(?:tx)?: Context|^def (\w+)\(session", source, re.M):
            after = source[match.end() :].split(":\n", 1)[1].lstrip()
            assert after.startswith('"""'), f"{name}: {match.group(0)} has no docstring"
