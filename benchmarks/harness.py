"""Side-by-side timing: alternatives run interleaved in one process, medians and ratios printed."""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone


def machine() -> str:
    """One line naming the machine, for RESULTS.md."""
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.platform()}"


def measure(alternatives: dict[str, Callable[[], object]], rounds: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median seconds of each alternative; rounds interleave them so machine noise hits all alike."""
    for _ in range(warmup):
        for fn in alternatives.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in alternatives}
    for _ in range(rounds):
        for name, fn in alternatives.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title: str, medians: dict[str, float], baseline: str) -> str:
    """A markdown table of medians with each alternative's speed-up over ``baseline``."""
    base = medians[baseline]
    lines = [
        f"### {title}",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {machine()}",
        "",
        "| variant | median | speed-up vs " + baseline + " |",
        "| --- | ---: | ---: |",
    ]
    for name, value in sorted(medians.items(), key=lambda kv: kv[1]):
        lines.append(f"| {name} | {value:.3f} s | {base / value:.1f}x |")
    text = "\n".join(lines) + "\n"
    print(text, file=sys.stdout)
    return text
