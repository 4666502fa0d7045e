"""e. Whole commands as a user runs them: fresh processes, wall time, side by side with the anchors.

Rows: `invoke --list` and `invoke --help reset-db` (against a bare `python -c pass`); a warm
`invoke reset-db` against the naive shell recipe (`psql` drop + create, `alembic upgrade head`);
`invoke consistency --no-cache` (every rule runs) and `invoke consistency` with nothing changed since
its last pass (the remembered verdict) against `alembic check` on the same database; `invoke full-check` on an
unchanged tree, after a comment and after a one-statement change in one service module, and after
its revert. Every alternative is a separate process, started the way a shell would start it (with
Python's default bytecode cache, whatever the calling shell sets), and interleaved round by round.
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
            "invoke consistency --no-cache (every rule)": _run([INVOKE, "consistency", "--no-cache"], env),
            # Nothing changed since the last pass: the remembered verdict, printed without SQLAlchemy.
            "invoke consistency (remembered verdict)": _run([INVOKE, "consistency"], env),
        },
        rounds=rounds,
    )
    report("e3. consistency as a whole process", medians, "alembic check")


def full_check_rows(rounds: int) -> None:
    """full-check in the edit loop: each timed run starts from a tree the step cache has seen pass.

    Rows: the unchanged tree; a comment added to one service module; one statement added inside a
    function of it; and the revert of that statement (a change too, timed on its own). Untimed full-checks
    between rows bring the cache back to the unchanged tree, so no row pays for the one before it.
    """
    original = CHANGED.read_text()
    counter = iter(range(1_000_000))
    full_check = _run([INVOKE, "full-check"])

    def timed(call: Callable[[], None]) -> float:
        start = timeit.default_timer()
        call()
        return timeit.default_timer() - start

    def with_text(text: str) -> float:
        CHANGED.write_text(text)
        try:
            return timed(full_check)
        finally:
            CHANGED.write_text(original)

    samples: dict[str, list[float]] = {name: [] for name in ROWS_E4}
    full_check()
    full_check()  # the cache settles: the second run is the state every row starts from
    for _ in range(rounds):
        samples[ROWS_E4[0]].append(timed(full_check))
        samples[ROWS_E4[1]].append(with_text(original + f"\n\n# bench edit {next(counter)}\n"))
        full_check()
        # One statement more inside a function: test selection reruns the tests that ran that function.
        edited = original.replace("\n    return plan\n", f"\n    assert {next(counter)} >= 0\n    return plan\n", 1)
        samples[ROWS_E4[2]].append(with_text(edited))
        samples[ROWS_E4[3]].append(timed(full_check))  # the file is back as it was: the revert
    medians = {name: statistics.median(values) for name, values in samples.items()}
    report("e4. full-check in the edit loop", medians, ROWS_E4[1])


ROWS_E4 = (
    "invoke full-check (unchanged tree)",
    "invoke full-check after a one-line change (a comment)",
    "invoke full-check after a one-statement change in a function body",
    "invoke full-check after reverting that change",
)


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
