"""c. `invoke consistency` against `alembic check` and pytest-alembic's built-in tests, on the same server.

`alembic check` compares models to a database at head (what C1 to C5 cover, without pg_catalog's
extras); pytest-alembic's built-ins walk the history up and down (what C6 and the round trip cover).
Run: python benchmarks/bench_consistency.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from harness import measure, report

from dbops import lifecycle
from dbops.core import database
from dbops.core.config import load_settings
from dbops.core.urls import plain_url, with_database

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> None:
    proc = subprocess.run(args, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    if proc.returncode not in (0,):
        raise SystemExit(f"{args[:4]} failed ({proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-500:]}")


def main() -> None:
    """Time the three, side by side, and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    server = lifecycle.target(settings).server
    head = lifecycle.Target(server, "bench_consistency")
    lifecycle.reset(settings, head, with_seed=False)
    at_head = {"DATABASE_URL": plain_url(head.url.set(drivername="postgresql"))}
    empty_url = with_database(server, "bench_pytest_alembic")

    def pytest_alembic() -> None:
        database.drop(server, "bench_pytest_alembic")
        database.create(server, "bench_pytest_alembic")
        env = {"BENCH_ALEMBIC_INI": str(ROOT / "alembic.ini"), "BENCH_EMPTY_URL": plain_url(empty_url)}
        # pytest-alembic binds its built-in tests to tests/conftest.py under the rootdir.
        project = ROOT / "benchmarks" / "pytest_alembic_project"
        _run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--test-alembic",
                "-q",
                "-p",
                "no:cacheprovider",
                "-c",
                "/dev/null",
                "--rootdir",
                str(project),
                str(project / "tests"),
            ],
            env,
            cwd=project,
        )

    medians = measure(
        {
            "invoke consistency (C1-C6 + blockers)": lambda: _run(
                [sys.executable, "-m", "invoke", "consistency"], at_head
            ),
            "alembic check": lambda: _run([sys.executable, "-m", "alembic", "check"], at_head),
            "pytest-alembic built-in tests": pytest_alembic,
            "invoke round-trip": lambda: _run([sys.executable, "-m", "invoke", "round-trip"], at_head),
        },
        rounds=args.rounds,
    )
    report("c. consistency against alembic check and pytest-alembic", medians, "pytest-alembic built-in tests")
    database.drop(server, "bench_pytest_alembic")
    database.drop(server, "bench_consistency")


if __name__ == "__main__":
    main()
