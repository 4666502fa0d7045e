"""The review of one revision (this project's newest, on a copy at its parent), without and with the seed's rows.

"Remembered": the revision's offline SQL is known from an earlier review of the unchanged file (the
usual case: a pre-commit hook or full-check run again); "first time": the project's interpreter starts
and emits it. The whole command (a fresh process) is the baseline.
Run: python benchmarks/bench_review.py [--rounds N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

from harness import measure, report

from dbops import lifecycle
from dbops.checks.review import review
from dbops.core.config import load_settings

PARENT = "0010_auth_throttles"  # the newest revision, 0011_outbox_idempotency, is reviewed on a copy at it
PAUSE = 3.0  # seconds between two reviews, as between two commits: the next spare copy is ready by then


def main() -> None:
    """Time the alternatives and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    tgt = lifecycle.target(settings)
    remembered = settings.cache_dir / "review"

    def once(data: str | None = None, first: bool = False) -> None:
        if first:
            shutil.rmtree(remembered, ignore_errors=True)
        done = review(settings, tgt, since=PARENT, data=data)
        assert done.selection.revisions == ["0011_outbox_idempotency"] and done.result.findings
        time.sleep(PAUSE)  # the spare copy the review asked for is made in the background, as between two commits

    command = [sys.executable, "-m", "invoke", "review", "--since", PARENT]

    def whole() -> None:
        subprocess.run(command, capture_output=True, check=False)
        time.sleep(PAUSE)

    medians = measure(
        {
            "review, SQL remembered": lambda: once(),
            "review --data seed, SQL remembered": lambda: once("seed"),
            "review, first time": lambda: once(first=True),
            "review --data seed, first time": lambda: once("seed", first=True),
            "invoke review (whole command)": whole,
        },
        rounds=args.rounds,
    )
    # The pause after each run is not the review's: taken off again.
    medians = {name: value - PAUSE for name, value in medians.items()}
    report("d. review of one revision", medians, "invoke review (whole command)")


if __name__ == "__main__":
    main()
