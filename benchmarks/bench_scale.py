"""d. Scale: consistency on generated schemas of up to 1,000 tables; the round trip on histories of up to 200 revisions.

Run: python benchmarks/bench_scale.py [--tables 100,300,1000] [--revisions 25,50,100,200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from genproject import generate
from harness import machine

from dbops import lifecycle, migrations
from dbops.checks import run_checks
from dbops.core import database
from dbops.core.config import load_settings
from dbops.migrations.roundtrip import round_trip


def _project(tmp: Path, tables: int, revisions: int):  # type: ignore[no-untyped-def]
    root = generate(tmp / f"p{tables}x{revisions}", tables, revisions)
    sys.modules.pop("gen_models", None)
    sys.path.insert(0, str(root))
    return load_settings(root, env={})


def main() -> None:
    """Time consistency and the round trip at several sizes; print how the cost grows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", default="100,300,1000")
    parser.add_argument("--revisions", default="25,50,100,200")
    args = parser.parse_args()
    server = lifecycle.target(load_settings()).server
    lines = [
        f"### d. scale\n\n{machine()}\n",
        "| tables | revisions | migrate | consistency (C1-C6) | findings |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.tables.split(",")):
            settings = _project(Path(tmp), n, 10)
            url = database.create(server, f"bench_scale_{n}")
            try:
                t0 = time.perf_counter()
                migrations.upgrade(settings, url, "head")
                t1 = time.perf_counter()
                result = run_checks(settings, url)
                t2 = time.perf_counter()
            finally:
                database.drop(server, f"bench_scale_{n}")
            lines.append(f"| {n} | 10 | {t1 - t0:.2f} s | {t2 - t1:.2f} s | {len(result.findings)} |")
            print(lines[-1], flush=True)
        lines += ["", "| revisions | round trip | per revision |", "| ---: | ---: | ---: |"]
        for m in (int(x) for x in args.revisions.split(",")):
            settings = _project(Path(tmp), m, m)
            url = database.create(server, f"bench_rt_{m}")
            try:
                t0 = time.perf_counter()
                found = round_trip(settings, url)
                seconds = time.perf_counter() - t0
            finally:
                database.drop(server, f"bench_rt_{m}")
            assert not found, found
            lines.append(f"| {m} | {seconds:.2f} s | {1000 * seconds / m:.0f} ms |")
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
