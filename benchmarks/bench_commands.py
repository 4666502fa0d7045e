"""e. Whole commands as a user runs them: fresh processes, wall time, side by side with the anchors.

Rows: `invoke --list` and `invoke --help reset-db` (against a bare `python -c pass`); a warm
`invoke reset-db` against the naive shell recipe (`psql` drop + create, `alembic upgrade head`);
`invoke consistency` against `alembic check` on the same database; `invoke full-check` after a
one-line change in one service module. Every alternative is a separate process, started the way a
shell would start it (with Python's default bytecode cache, whatever the calling shell sets), and
interleaved round by round.
Run: python benchmarks/bench_commands.py [--rounds N] [--skip-full-check]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

from harness import measure, report

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INVOKE = str(BIN / "invoke")
ALEMBIC = str(BIN / "alembic")
CHANGED = ROOT / "src" / "billing" / "services" / "catalogue.py"
# Python's default: bytecode is cached. Some shells (CI images, containers) set PYTHONDONTWRITEBYTECODE,
# which makes every command, the anchors included, recompile the project's modules on each start.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(args: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> Callable[[], None]:
    """A callable that runs one command as a fresh process and fails loudly on an unexpected exit code."""

    def call() -> None:
        proc = subprocess.run(args, cwd=ROOT, env={**BASE_ENV, **(env or {})}, capture_output=True, text=True)
        if proc.returncode not in ok:
            raise SystemExit(f"{' '.join(args[:3])} exited {proc.returncode}: {proc.stdout[-400:]}{proc.stderr[-400:]}")

    return call


def _server_url() -> str:
    """The embedded server's URL (with password, for psql and alembic), started if needed."""
    out = subprocess.run([INVOKE, "db.url", "--show-password"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().rsplit("/", 1)[0]


def startup_rows(rounds: int) -> None:
    """invoke --list and --help against a bare interpreter start."""
    medians = measure(
        {
            "python -c pass": _run([sys.executable, "-c", "pass"]),
            "invoke --list": _run([INVOKE, "--list"]),
            "invoke --help reset-db": _run([INVOKE, "--help", "reset-db"]),
        },
        rounds=rounds,
    )
    report("e1. listing tasks", medians, "invoke --list")


def reset_rows(rounds: int, server: str) -> None:
    """Warm reset-db (template unchanged) against psql drop/create and alembic upgrade head."""
    naive_db = f"{server}/bench_naive"
    psql = shutil.which("psql") or "psql"

    def naive() -> None:
        _run([psql, f"{server}/postgres", "-qc", "DROP DATABASE IF EXISTS bench_naive WITH (FORCE)"])()
        _run([psql, f"{server}/postgres", "-qc", "CREATE DATABASE bench_naive"])()
        _run([ALEMBIC, "upgrade", "head"], {"DATABASE_URL": naive_db})()

    _run([INVOKE, "reset-db", "--no-seed"])()  # the template exists and is current
    medians = measure(
        {
            "naive shell recipe (psql drop + create, alembic upgrade head)": naive,
            "invoke reset-db --no-seed (warm)": _run([INVOKE, "reset-db", "--no-seed"]),
            "invoke reset-db (warm, seeded)": _run([INVOKE, "reset-db"]),
        },
        rounds=rounds,
    )
    report("e2. reset-db as a whole process", medians, "naive shell recipe (psql drop + create, alembic upgrade head)")
    _run([psql, f"{server}/postgres", "-qc", "DROP DATABASE IF EXISTS bench_naive WITH (FORCE)"])()


def consistency_rows(rounds: int, server: str) -> None:
    """invoke consistency against alembic check on the same database at head."""
    env = {"DATABASE_URL": f"{server}/billing"}
    _run([INVOKE, "reset-db", "--no-seed"])()
    medians = measure(
        {
            "alembic check": _run([ALEMBIC, "check"], env),
            "invoke consistency (every rule)": _run([INVOKE, "consistency"], env),
        },
        rounds=rounds,
    )
    report("e3. consistency as a whole process", medians, "alembic check")


def full_check_rows(rounds: int) -> None:
    """full-check after a one-line change in one service module (the change reverted after each run)."""
    original = CHANGED.read_text()
    counter = iter(range(1_000_000))

    def after_change() -> None:
        CHANGED.write_text(original + f"\n\n# bench edit {next(counter)}\n")  # formatted as ruff wants it
        try:
            _run([INVOKE, "full-check"])()
        finally:
            CHANGED.write_text(original)

    def after_body_change() -> None:
        # One statement more inside a function: test selection reruns the tests that ran that function.
        edited = f"\n    assert {next(counter)} >= 0\n    return plan\n"
        CHANGED.write_text(original.replace("\n    return plan\n", edited, 1))
        try:
            _run([INVOKE, "full-check"])()
        finally:
            CHANGED.write_text(original)

    def after_revert() -> None:
        # The revert is a change too (the same tests rerun): timed on its own, after an untimed edit.
        after_body_change()
        revert_timer[0] = timeit.default_timer()
        _run([INVOKE, "full-check"])()
        revert_timer[1] = timeit.default_timer()

    _run([INVOKE, "full-check"])()  # prime the step cache for the unchanged tree
    revert_timer = [0.0, 0.0]
    medians = measure(
        {
            "invoke full-check (unchanged tree)": _run([INVOKE, "full-check"]),
            "invoke full-check after a one-line change (a comment)": after_change,
            "invoke full-check after a one-statement change in a function body": after_body_change,
        },
        rounds=rounds,
        warmup=0,
    )
    reverts = []
    for _ in range(rounds):
        after_revert()
        reverts.append(revert_timer[1] - revert_timer[0])
    medians["invoke full-check after reverting that change"] = statistics.median(reverts)
    report("e4. full-check in the edit loop", medians, "invoke full-check after a one-line change (a comment)")


def main() -> None:
    """Time every row and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-full-check", action="store_true", help="leave out e4 (minutes per round)")
    args = parser.parse_args()
    server = _server_url()
    startup_rows(args.rounds)
    reset_rows(args.rounds, server)
    consistency_rows(args.rounds, server)
    if not args.skip_full_check:
        full_check_rows(max(1, args.rounds // 3))


if __name__ == "__main__":
    main()
