"""Sandbox overhead: a trivial run (`python -c pass`) through each available backend vs bare.

    python benchmarks/sandbox_overhead.py [--runs 20]

Prints median and p95 wall time per backend and the overhead over the bare interpreter
start on the host, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from scientist.config import SandboxConfig
from scientist.errors import SandboxUnavailable
from scientist.models import RunSpec
from scientist.sandbox import open_sandbox


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bare_times(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return times


def sandbox_times(kind: str, runs: int, workspace: Path) -> list[float] | str:
    try:
        sandbox = open_sandbox(SandboxConfig.model_validate({"kind": kind}))
    except SandboxUnavailable as exc:
        return str(exc)
    spec = RunSpec(workspace=workspace, argv=["python", "-c", "pass"], timeout_s=60)
    sandbox.run(spec)  # warm-up: first-use probes and imports
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = sandbox.run(spec)
        times.append(time.perf_counter() - started)
        if not result.ok:
            return f"run failed: {result.status} {result.message}"
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["local", "docker"])
    args = parser.parse_args()
    bare = bare_times(args.runs)
    bare_median = statistics.median(bare)
    console = Console(width=160)
    console.print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, {platform.processor() or '?'}, "
        f"Python {platform.python_version()}"
    )
    table = Table(title=f"sandbox overhead, {args.runs} runs of `python -c pass` per backend")
    for column in ("backend", "median s", "p95 s", "median overhead ms", "p95 overhead ms"):
        table.add_column(column, justify="right" if column != "backend" else "left")
    table.add_row("bare", f"{bare_median:.4f}", f"{percentile(bare, 0.95):.4f}", "-", "-")
    with tempfile.TemporaryDirectory() as workspace:
        for kind in args.backends:
            times = sandbox_times(kind, args.runs, Path(workspace))
            if isinstance(times, str):
                table.add_row(kind, "-", "-", f"unavailable: {times}", "-")
                continue
            median, p95 = statistics.median(times), percentile(times, 0.95)
            table.add_row(
                kind,
                f"{median:.4f}",
                f"{p95:.4f}",
                f"{(median - bare_median) * 1000:.1f}",
                f"{(p95 - bare_median) * 1000:.1f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
