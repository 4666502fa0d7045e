"""The ``dbops`` command: dbops's invoke tasks for any Alembic project, plus flags that name the project's parts.

``dbops consistency --alembic-ini alembic.ini --metadata app.models:Base.metadata`` works in a
project without ``[tool.dbops]``. The project flags may stand anywhere on the line; they reach the
settings as DBOPS_* variables, so every task sees them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from invoke.parser.argument import Argument
from invoke.program import Program

from dbops.core.discover import OVERRIDES

# Project flags -> the setting they set.
FLAGS = {
    "--alembic-ini": ("alembic_ini", "the project's alembic.ini (default: alembic.ini at the project root)"),
    "--name": ("alembic_name", "the alembic.ini section to use, as alembic --name (default: alembic)"),
    "--metadata": ("metadata", "module:attr.path of the models' MetaData, e.g. app.models:Base.metadata"),
    "--schemas": ("schemas", "the schema to compare (default: public; one per run)"),
    "--python": (
        "python",
        "the interpreter that runs the project's code (default: the active venv, .venv, or dbops's)",
    ),
}


# The README's "Exit codes" table, in one paragraph (a test keeps the two in step).
EXIT_CODES_HELP = """
Exit codes (README, "Exit codes"):
  0    clean: every rule looked and found nothing
  1    findings, a rule that could not look ("not checked"), a failed step or migration
  2    usage or configuration error, a refused drop, env.py reaching another database
  3    database unreachable (server down, wrong password, no binaries, no Docker engine)
  70   a bug in dbops (rerun with --debug and report the traceback)
  130  interrupted; the next run recovers by itself
"""


class DbopsProgram(Program):
    """invoke's Program with the project flags listed in ``dbops --help``."""

    def print_help(self) -> None:
        """invoke's help, then the exit codes every task shares."""
        super().print_help()
        print(EXIT_CODES_HELP)

    def core_args(self) -> list[Argument]:
        """invoke's core flags and the project flags (which main() has already taken off the line)."""
        extra = [Argument(names=(flag.lstrip("-"),), help=text) for flag, (_, text) in FLAGS.items()]
        return [*super().core_args(), *extra]


def take_project_flags(argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Split the project flags (``--flag value`` or ``--flag=value``, anywhere) from the rest of the line."""
    rest: list[str] = []
    env: dict[str, str] = {}
    args = list(argv)
    i = 0
    while i < len(args):
        flag, eq, value = args[i].partition("=")
        if flag in FLAGS:
            if not eq:
                if i + 1 >= len(args):
                    print(f"error: {flag} needs a value (e.g. {flag} {_example(flag)})", file=sys.stderr)
                    raise SystemExit(2)
                value = args[i + 1]
                i += 1
            env[OVERRIDES[FLAGS[flag][0]]] = value
        else:
            rest.append(args[i])
        i += 1
    return rest, env


def _example(flag: str) -> str:
    examples = {
        "--alembic-ini": "alembic.ini",
        "--name": "alembic",
        "--metadata": "app.models:Base.metadata",
        "--python": ".venv/bin/python",
    }
    return examples.get(flag, "public")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``dbops`` console script."""
    from dbops import __version__
    from dbops.cli.tasks import namespace

    rest, env = take_project_flags(sys.argv[1:] if argv is None else argv)
    os.environ.update(env)
    program = DbopsProgram(namespace=namespace(), name="dbops", binary="dbops", version=__version__)
    program.run(["dbops", *rest])
