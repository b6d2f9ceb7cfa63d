"""Sandbox overhead: a trivial run (`python -c pass`) through each available backend vs bare.

    python benchmarks/sandbox_overhead.py [--runs 20]

Prints median and p95 wall time per backend and the overhead over the bare interpreter
start on the host, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe
from rich.console import Console
from rich.table import Table

from scientist.config import SandboxConfig
from scientist.errors import SandboxUnavailable
from scientist.models import RunSpec
from scientist.sandbox import open_sandbox


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bare_run() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def paired_times(kind: str, runs: int, workspace: Path) -> tuple[list[float], list[float]] | str:
    """(sandbox times, bare times), alternating so load drift hits both alike."""
    try:
        sandbox = open_sandbox(SandboxConfig.model_validate({"kind": kind}))
    except SandboxUnavailable as exc:
        return str(exc)
    spec = RunSpec(workspace=workspace, argv=["python", "-c", "pass"], timeout_s=60)
    sandbox.run(spec)  # warm-up: first-use probes and imports
    sandboxed, bare = [], []
    for _ in range(runs):
        bare.append(bare_run())
        started = time.perf_counter()
        result = sandbox.run(spec)
        sandboxed.append(time.perf_counter() - started)
        if not result.ok:
            return f"run failed: {result.status} {result.message}"
    return sandboxed, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["local", "docker"])
    args = parser.parse_args()
    console = Console(width=160)
    console.print(f"machine: {describe()}")
    table = Table(title=f"sandbox overhead, {args.runs} runs of `python -c pass` per backend")
    columns = ("backend", "bare median s", "median s", "p95 s", "overhead median ms", "p95 ms")
    for column in columns:
        table.add_column(column, justify="left" if column == "backend" else "right")
    with tempfile.TemporaryDirectory() as workspace:
        for kind in args.backends:
            measured = paired_times(kind, args.runs, Path(workspace))
            if isinstance(measured, str):
                table.add_row(kind, "-", "-", "-", f"unavailable: {measured}", "-")
                continue
            sandboxed, bare = measured
            overhead = [run - base for run, base in zip(sandboxed, bare, strict=True)]
            table.add_row(
                kind,
                f"{statistics.median(bare):.4f}",
                f"{statistics.median(sandboxed):.4f}",
                f"{percentile(sandboxed, 0.95):.4f}",
                f"{statistics.median(overhead) * 1000:.1f}",
                f"{percentile(overhead, 0.95) * 1000:.1f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
