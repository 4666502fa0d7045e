"""i. The billing API under load, this tree against an earlier commit, measured with wrk.

Throughput, p50 and p99, and the answers that were not 2xx (503s: shed; 429s: throttled) for
catalogue reads (200 connections), authenticated reads (50) and purchases (20), on one worker and
on three. Each tree serves its own copy of the seeded database, the way it is deployed (the earlier
commit with the uvicorn command line, this one with ``python -m billing.api.server``); the two run
interleaved, scenario by scenario, so machine noise hits both alike.

Run: python benchmarks/bench_api.py [--before REV] [--duration S] [--rounds N] [--workers 1,3]
(each figure is the median of the rounds, the trees alternating within each round).
Needs wrk, a load generator in C (so the client is not the bottleneck): apt-get install -y wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import machine

# The servers are started the way the API tests start theirs (tests/integration/api/api_support.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration" / "api"))
from api_support import uvicorn_server

from dbops import lifecycle
from dbops.core import database
from dbops.core.config import load_settings
from dbops.core.urls import plain_url
from dbops.lifecycle import templates

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-Password-1"
SECRET = "a-benchmark-secret-that-is-long-enough-for-hs256"
# (name, method, path, connections, authenticated)
SCENARIOS = [
    ("catalogue reads", "GET", "/plans", 200, False),
    ("authenticated reads", "GET", "/tokens", 50, True),
    ("purchases", "POST", "/token-bundles/tokens_1k/purchase", 20, True),
]
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class Run:
    """What wrk measured for one scenario against one server."""

    requests_per_second: float
    ok_per_second: float
    p50: float
    p99: float
    not_2xx: int
    errors: int


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> Run:
    """Answers and 2xx answers per second, p50, p99 (seconds), non-2xx answers and socket errors (``wrk --latency``)."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = _seconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _seconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    not_ok = int(non2xx.group(1)) if non2xx else 0
    ok_rps = rps * (total - not_ok) / total if total else 0.0
    return Run(rps, ok_rps, p50, p99, not_ok, sum(map(int, errors.groups())) if errors else 0)


def wrk_script(folder: Path, method: str, token: str | None) -> Path:
    """A wrk Lua script setting the method and the bearer token."""
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    path = folder / f"{method.lower()}-{'auth' if token else 'anon'}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(wrk: str, base: str, path: str, connections: int, seconds: int, script: Path) -> Run:
    """One wrk run: two threads (one per core), ``connections`` open connections, ``seconds`` long."""
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(script)]
    done = subprocess.run([*command, base + path], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


def served(tree: str, source: Path, url: str, workers: int, folder: Path) -> contextlib.AbstractContextManager[str]:
    """A server of ``tree`` over ``url``, deployed as that tree deploys it (the tests' uvicorn_server); its base URL."""
    env = {"PYTHONPATH": str(source), "BILLING_JWT_SECRET": SECRET, "BILLING_THROTTLE_FACTOR": "1000"}
    return uvicorn_server(url, folder, env, workers=workers, plain=tree == "before")


def buyer(base: str, label: str) -> str:
    """A signed-up user with a visa test card as default method; their bearer token."""
    email = f"bench-{label}-{time.monotonic_ns()}@example.com"
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/auth/register", json={"email": email, "password": PASSWORD}).status_code == 202
        token = client.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
        card = {"provider": "stripe", "provider_method_id": "pm_card_visa"}
        response = client.post("/payment-methods", json=card, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
    return str(token)


def export(rev: str, into: Path) -> Path:
    """The ``src`` folder of commit ``rev``, unpacked into ``into``."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def median_run(runs: list[Run]) -> Run:
    """Each figure's median over the runs."""
    return Run(
        *(statistics.median(getattr(run, f) for run in runs) for f in ("requests_per_second", "ok_per_second")),
        *(statistics.median(getattr(run, f) for run in runs) for f in ("p50", "p99")),
        int(statistics.median(run.not_2xx for run in runs)),
        int(statistics.median(run.errors for run in runs)),
    )


def table(results: dict[tuple[str, int, str], Run], workers: list[int], rev: str, duration: int, rounds: int) -> str:
    """The markdown table: each scenario and worker count, before and after side by side."""
    lines = [
        f"### i. API under load: {rev[:7]} (before) and this tree (after), wrk, medians of {rounds} x {duration} s",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {machine()}",
        "",
        "| scenario | workers | 2xx/s before | 2xx/s after | after/before | all answers/s before / after | "
        "p50 before / after | p99 before / after | non-2xx before / after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, _, _, connections, _ in SCENARIOS:
        for count in workers:
            b, a = results[(name, count, "before")], results[(name, count, "after")]
            ratio = a.ok_per_second / b.ok_per_second if b.ok_per_second else float("inf")
            lines.append(
                f"| {name} ({connections} conn.) | {count} | {b.ok_per_second:,.0f} | {a.ok_per_second:,.0f} | "
                f"{ratio:.2f}x | {b.requests_per_second:,.0f} / {a.requests_per_second:,.0f} | "
                f"{b.p50 * 1000:.1f} / {a.p50 * 1000:.1f} ms | {b.p99 * 1000:.0f} / {a.p99 * 1000:.0f} ms | "
                f"{b.not_2xx + b.errors:,} / {a.not_2xx + a.errors:,} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    """Measure both trees and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="the commit to compare with (default: where this branch left main)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each scenario per tree (medians reported)")
    parser.add_argument("--workers", default="1,3", help="worker counts, comma-separated")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: this benchmark needs it (Debian/Ubuntu: apt-get install -y wrk)", file=sys.stderr)
        return 2
    rev = (
        args.before
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    workers = [int(n) for n in args.workers.split(",")]
    settings = load_settings()
    server = lifecycle.target(settings).server
    seeded = templates.ensure_template(settings, server, "head", build=lambda url: lifecycle.seed(settings, url))
    samples: dict[tuple[str, int, str], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        folder = Path(tmp)
        sources = {"before": export(rev, folder), "after": ROOT / "src"}
        for count in workers:
            names = {tree: f"bench_api_{tree}_{count}" for tree in sources}
            urls = {}
            for tree, name in names.items():
                database.drop(server, name, disposable=(name,))
                urls[tree] = plain_url(templates.clone(server, seeded, name))
            try:
                with contextlib.ExitStack() as stack:
                    bases = {t: stack.enter_context(served(t, sources[t], urls[t], count, folder)) for t in sources}
                    tokens = {tree: buyer(base, tree) for tree, base in bases.items()}
                    for _ in range(args.rounds):
                        for name, method, path, connections, authenticated in SCENARIOS:
                            for tree, base in bases.items():
                                script = wrk_script(folder, method, tokens[tree] if authenticated else None)
                                run_wrk(wrk, base, path, connections, 2, script)  # warm-up, not counted
                                run = run_wrk(wrk, base, path, connections, args.duration, script)
                                samples.setdefault((name, count, tree), []).append(run)
                                print(f"{name}, {count} worker(s), {tree}: {run}", flush=True)
            finally:
                for name in names.values():
                    database.drop(server, name, disposable=(name,))
    results = {key: median_run(runs) for key, runs in samples.items()}
    print(table(results, workers, rev, args.duration, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
