"""b. Warm `invoke full-check` against the seed's recipe run in sequence.

The seed's recipe (its `pre-commit-check.sh --full`): black --check, flake8, mypy, pytest over the
same tests full-check runs, and the naive reset. full-check is timed warm twice: as a developer
reruns it (passed steps with unchanged inputs are cached) and with --no-cache (everything reruns;
only the template database, the embedded server and mypy's cache are warm).
Run: python benchmarks/bench_full_check.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from harness import measure, report

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PATHS = ["src", "tests", "tasks.py", "noxfile.py", "benchmarks"]


def _run(*args: str) -> int:
    # Exit codes are not the point here (black and flake8 have their own opinions); time is.
    return subprocess.run(list(args), cwd=ROOT, env=os.environ, capture_output=True, text=True).returncode


def seed_recipe() -> None:
    """The seed's pre-commit-check.sh --full, one tool after the other."""
    _run(PY, "-m", "black", "--check", "-q", "-l", "120", *PATHS)
    _run(PY, "-m", "flake8", "--max-line-length", "120", *PATHS)
    _run(PY, "-m", "mypy")
    _run(
        PY,
        "-m",
        "pytest",
        "tests/unit",
        "tests/integration",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not slow and not docker",
    )
    _run(PY, "-m", "invoke", "reset-db", "--naive")


def main() -> None:
    """Time the alternatives and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    _run(PY, "-m", "invoke", "full-check")  # prime the step cache for this exact tree
    medians = measure(
        {
            "seed recipe (black, flake8, mypy, pytest, naive reset)": seed_recipe,
            "invoke full-check --no-cache (warm)": lambda: _run(PY, "-m", "invoke", "full-check", "--no-cache"),
            "invoke full-check (warm, unchanged tree)": lambda: _run(PY, "-m", "invoke", "full-check"),
        },
        rounds=args.rounds,
        warmup=0,  # each alternative takes minutes; the machine's caches are warm from earlier runs
    )
    report("b. full-check, warm", medians, "seed recipe (black, flake8, mypy, pytest, naive reset)")


if __name__ == "__main__":
    main()
