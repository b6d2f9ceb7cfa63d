"""Wall time of K independent CPU-bound runs at max_parallel 1 and 2, local vs ray backend.

Each run is a pack-like experiment: a single-threaded pure-Python loop sized to take about
`--seconds` on this machine, started through the sandbox exactly as a campaign starts it.
Runs are dispatched by a thread pool of `max_parallel` workers, as the research loop does.

    python benchmarks/parallel_campaign.py [--runs 4] [--seconds 6] [--backends local ray]

Prints one table: wall time per (backend, max_parallel), speedup over max_parallel 1, and
the machine (CPU model, cores, load average before and after). The CPU may be shared: read
the load columns before trusting the speedups.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import describe

from scientist.config import SandboxConfig
from scientist.models import RunSpec
from scientist.sandbox import Sandbox, open_sandbox

WORK = """
import json, os, sys, time
started = time.perf_counter()
total = 0
for i in range(int(sys.argv[1])):
    total = (total + i * i) % 1_000_003
os.makedirs("out", exist_ok=True)
json.dump({"total": total, "runtime_s": time.perf_counter() - started}, open("out/r.json", "w"))
"""


def iterations_for(seconds: float) -> int:
    """Loop length that takes about `seconds` here (timed in-process for 0.5 s)."""
    total, count, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < 0.5:
        for i in range(100_000):
            total = (total + i * i) % 1_000_003
        count += 100_000
    return int(count * seconds / (time.perf_counter() - started))


def campaign_wall_time(sandbox: Sandbox, specs: list[RunSpec], max_parallel: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max_parallel) as pool:
        results = list(pool.map(sandbox.run, specs))
    elapsed = time.perf_counter() - started
    failed = [result for result in results if not result.ok]
    if failed:
        raise SystemExit(f"{sandbox.name}: a run failed: {failed[0].status} {failed[0].message}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0, help="target length of one run")
    parser.add_argument("--backends", nargs="+", default=["local", "ray"])
    args = parser.parse_args()

    load_before = os.getloadavg()
    iterations = iterations_for(args.seconds)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "workspace"
        workspace.mkdir()
        (workspace / "work.py").write_text(WORK)
        for backend in args.backends:
            sandbox = open_sandbox(SandboxConfig(kind=backend), campaign="benchmark")
            availability = sandbox.check()
            if not availability.ok:
                raise SystemExit(f"{backend}: {availability.reason} ({availability.hint})")
            warm = RunSpec(workspace=workspace, argv=["python", "-c", "pass"])
            campaign_wall_time(sandbox, [warm, warm], 2)  # start Ray and its workers first
            specs = [
                RunSpec(
                    workspace=workspace,
                    argv=["python", "work.py", str(iterations)],
                    timeout_s=20 * args.seconds,
                    output_dir=Path(scratch) / backend / f"run_{k}",
                )
                for k in range(args.runs)
            ]
            serial = campaign_wall_time(sandbox, specs, 1)
            parallel = campaign_wall_time(sandbox, specs, 2)
            rows.append((backend, 1, serial, 1.0))
            rows.append((backend, 2, parallel, serial / parallel))
    load_after = os.getloadavg()

    print(f"machine: {describe()}")
    print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}")
    print(f"{args.runs} runs of ~{args.seconds:g} s each ({iterations} loop iterations)")
    print(f"{'backend':<8} {'max_parallel':>12} {'wall_s':>8} {'speedup':>8}")
    for backend, workers, wall, speedup in rows:
        print(f"{backend:<8} {workers:>12} {wall:>8.2f} {speedup:>8.2f}")


if __name__ == "__main__":
    main()
