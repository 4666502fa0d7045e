"""a. Warm reset-db (template clone) against the naive reset (drop, create, alembic upgrade head).

Also compares the two CREATE DATABASE strategies (WAL_LOG, FILE_COPY) for the clone itself.
Run: python benchmarks/bench_reset.py [--rounds N]
"""

from __future__ import annotations

import argparse

from harness import measure, report

from dbops import lifecycle
from dbops.core import database
from dbops.core.config import load_settings
from dbops.lifecycle import templates


def main() -> None:
    """Time the alternatives and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    tgt = lifecycle.target(settings)
    bench = lifecycle.Target(tgt.server, "bench_reset")
    tpl = templates.ensure_template(settings, tgt.server, "head")

    def clone(strategy: str) -> None:
        database.drop(tgt.server, "bench_clone")
        templates.clone(tgt.server, tpl, "bench_clone", strategy=strategy)

    medians = measure(
        {
            "naive reset (drop, create, upgrade head)": lambda: lifecycle.reset(
                settings, bench, use_template=False, with_seed=False
            ),
            "reset-db (template clone)": lambda: lifecycle.reset(settings, bench, with_seed=False),
            "reset-db + seed": lambda: lifecycle.reset(settings, bench),
        },
        rounds=args.rounds,
    )
    report("a. reset-db, warm", medians, "naive reset (drop, create, upgrade head)")
    strategies = measure({s: (lambda s=s: clone(s)) for s in ("WAL_LOG", "FILE_COPY")}, rounds=args.rounds)
    report("CREATE DATABASE ... TEMPLATE strategy", strategies, "WAL_LOG")
    database.drop(tgt.server, "bench_clone")
    database.drop(tgt.server, "bench_reset")


if __name__ == "__main__":
    main()
