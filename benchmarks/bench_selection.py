"""l. full-check's test selection: this checkout (pytest-testmon) against another (dbops's own selector).

Each round makes, in both checkouts alike, the same three kinds of edit and times `invoke full-check`
after each, as a fresh process with each checkout's own venv: (a) no change since the last run,
(b) a comment edited in one billing service function, (c) that function's body edited (a no-op
statement whose constant changes each round, so every run sees exactly one change). Checkouts and
kinds interleave, so machine noise hits both alike. A first run in each records what the tests ran.
The edited file is restored at the end.
Run: python benchmarks/bench_selection.py --other /path/to/old/checkout [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness import machine

ROOT = Path(__file__).resolve().parents[1]
BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "DATABASE_URL", "VIRTUAL_ENV")}
TARGET = Path("src/billing/services/invoices.py")
FUNCTION = "def list_invoices(session: Session, user_id: int) -> Sequence[Invoice]:\n"
DOCSTRING = '    """The user\'s invoices, newest first, with their lines."""\n'


def full_check(checkout: Path) -> float:
    """Seconds of one `invoke full-check` in ``checkout``; a failure stops the benchmark."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(checkout / ".venv" / "bin" / "invoke"), "full-check"],
        cwd=checkout,
        env=BASE_ENV,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{checkout.name}: full-check exited {proc.returncode}: {proc.stdout[-1500:]}")
    tests = [ln for ln in proc.stdout.splitlines() if "tests" in ln and ("ok " in ln or "cached" in ln)]
    print(f"  {checkout.name}: {seconds:.1f} s; " + " | ".join(ln.strip()[:110] for ln in tests[:2]), flush=True)
    return seconds


def edit(original: str, comment: int, body: int) -> str:
    """The target file with the function's comment and no-op statement at the given versions."""
    assert FUNCTION + DOCSTRING in original, "the benchmark's function moved: update FUNCTION/DOCSTRING"
    added = f"    # benchmark edit {comment}\n    _ = {body}\n"
    return original.replace(FUNCTION + DOCSTRING, FUNCTION + DOCSTRING + added)


def main() -> None:
    """Print one markdown table: each kind's median in both checkouts, and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--other", required=True, type=Path, help="another checkout, with its .venv installed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default="abc", help="which edits to time: a (none), b (comment), c (body)")
    opts = parser.parse_args()
    checkouts = {"before": opts.other.resolve(), "now": ROOT}
    originals = {name: (path / TARGET).read_text() for name, path in checkouts.items()}
    state = {"comment": 0, "body": 0}
    kinds: dict[str, Callable[[], None]] = {
        "(a) no change": lambda: None,
        "(b) a comment edit": lambda: state.update(comment=state["comment"] + 1),
        "(c) a body edit": lambda: state.update(body=state["body"] + 1),
    }
    kinds = {kind: change for kind, change in kinds.items() if kind[1] in opts.kinds}
    samples: dict[tuple[str, str], list[float]] = {}
    try:
        for name, path in checkouts.items():  # record: every test runs once
            (path / TARGET).write_text(edit(originals[name], 0, 0))
            full_check(path)
        for _ in range(opts.rounds):
            for kind, change in kinds.items():
                change()
                print(kind, flush=True)
                for name, path in checkouts.items():
                    (path / TARGET).write_text(edit(originals[name], state["comment"], state["body"]))
                    samples.setdefault((kind, name), []).append(full_check(path))
    finally:
        for name, path in checkouts.items():
            (path / TARGET).write_text(originals[name])
    rev = {
        n: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=p, capture_output=True, text=True).stdout
        for n, p in checkouts.items()
    }
    lines = [
        f"{machine()}; medians of {opts.rounds} interleaved rounds, whole processes",
        "",
        f"| invoke full-check after | {rev['before'].strip()} (before) | {rev['now'].strip()} (now) | now / before |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in kinds:
        before, now = (statistics.median(samples[(kind, n)]) for n in ("before", "now"))
        lines.append(f"| {kind} | {before:.1f} s | {now:.1f} s | {now / before:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
