"""Overhead of the research loop itself: campaign wall time against time inside the sandbox.

Runs an offline campaign (`--llm none`) on a pack and splits its wall time into the pack
check, the sandboxed runs (sum of each run's `duration_s` from result.json) and everything
else (graph, SQLite checkpoints, archive, report, workspace copies).

    python benchmarks/campaign_loop.py [--pack tests/fixtures/toy] [--ideas 5] [--parallel 1 2]
        [--no-smoke]

Prints one table per setting and the machine (CPU, cores, load before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from machine import describe

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign


def measure(pack: str, ideas: int, parallel: int, smoke: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="scientist-bench-") as scratch:
        root = Path(scratch) / "c"
        config = CampaignConfig(
            template=pack, smoke=smoke, max_ideas=ideas, max_parallel=parallel, campaign_dir=root
        )
        started = time.perf_counter()
        start_campaign(config, quiet=True)
        wall = time.perf_counter() - started
        results = [json.loads(p.read_text()) for p in root.rglob("runs/run_*/result.json")]
        results.append(json.loads((root / "baseline/run_0/result.json").read_text()))
        sandbox = sum(r["result"]["duration_s"] for r in results)
        return {"runs": len(results), "wall_s": wall, "sandbox_s": sandbox}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default=str(Path(__file__).parent.parent / "tests/fixtures/toy"))
    parser.add_argument("--ideas", type=int, default=5)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-smoke", action="store_true")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"pack: {args.pack}, ideas: {args.ideas}, smoke: {not args.no_smoke}")
    print(f"{'parallel':>8} {'runs':>5} {'wall s':>8} {'sandbox s':>10} {'loop s/idea':>12}")
    for parallel in args.parallel:
        row = measure(args.pack, args.ideas, parallel, not args.no_smoke)
        overhead = (row["wall_s"] - row["sandbox_s"] / parallel) / args.ideas
        print(
            f"{parallel:>8} {row['runs']:>5} {row['wall_s']:>8.2f} {row['sandbox_s']:>10.2f} "
            f"{overhead:>12.3f}"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
