"""j. Whole commands of this checkout against another checkout of the project (an earlier commit), side by side.

Each row runs the same command line in both checkouts, as a fresh process with each checkout's own
venv (``<checkout>/.venv/bin/invoke``), interleaved round by round so machine noise hits both alike.
Both checkouts keep their own embedded server and caches; a warm-up round settles them first.
Run: python benchmarks/bench_versions.py --other /path/to/old/checkout [--rounds N] [--skip-full-check]
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from harness import machine, measure

ROOT = Path(__file__).resolve().parents[1]
# Python's default: bytecode is cached (some shells set PYTHONDONTWRITEBYTECODE; no user's does by default).
BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "DATABASE_URL", "VIRTUAL_ENV")}
ROWS = {
    "invoke consistency (nothing changed since its last pass)": ["consistency"],
    "invoke consistency --no-cache (every rule)": ["consistency", "--no-cache"],
    "invoke reset-db --no-seed (warm)": ["reset-db", "--no-seed"],
    "invoke round-trip": ["round-trip"],
    "invoke migrate.current": ["migrate.current"],
}
FULL_CHECK = {"invoke full-check (unchanged tree)": ["full-check"]}


def _run(checkout: Path, args: list[str]) -> Callable[[], None]:
    """One command in ``checkout`` with its own venv, as a fresh process; a failure stops the benchmark."""
    invoke = str(checkout / ".venv" / "bin" / "invoke")

    def call() -> None:
        proc = subprocess.run([invoke, *args], cwd=checkout, env=BASE_ENV, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{checkout.name}: invoke {' '.join(args)} exited {proc.returncode}: {proc.stderr[-400:]}")

    return call


def main() -> None:
    """Print one markdown table: each row's median here, there, and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--other", required=True, type=Path, help="another checkout, with its .venv installed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-full-check", action="store_true")
    opts = parser.parse_args()
    other = opts.other.resolve()
    here = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    there = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=other, capture_output=True, text=True).stdout
    rows = {**ROWS, **({} if opts.skip_full_check else FULL_CHECK)}
    lines = [
        f"{machine()}; medians of {opts.rounds} interleaved rounds, whole processes",
        "",
        f"| what a user runs | {there.strip()} (before) | {here.strip()} (now) | now / before |",
        "| --- | ---: | ---: | ---: |",
    ]
    for title, args in rows.items():
        medians = measure({"before": _run(other, args), "now": _run(ROOT, args)}, rounds=opts.rounds)
        ratio = medians["now"] / medians["before"]
        lines.append(f"| {title} | {medians['before']:.3f} s | {medians['now']:.3f} s | {ratio:.2f} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
