"""Slot utilization and ideas per hour: the continuous scheduler against batch scheduling.

The campaign runs the sleepy pack (`tests/fixtures/sleepy`): each run sleeps 1 to 30 s, so
runs vary the way real experiments do while two cores are enough for many slots. The lengths
are drawn once (seeded, `--seed`) and the k-th run to start sleeps the k-th length, so both
schedulers run the same lengths in the same order. Ideas are bred offline. The writer and
the reviewer are scripted with injected latency (seeded, `--write-s` and `--review-s` on
average): they stand for a model writing and reviewing a paper, so no TeX and no model runs.

    python benchmarks/slot_utilization.py [--slots 8] [--ideas 24] [--write-s 20]
        [--review-s 10] [--modes continuous batch]

Utilization is busy slot-seconds over slots x span, from `slots.jsonl` (where each
experiment ran, from when to when):
- "all": the span from the first experiment's start to the last one's end. The tail, where
  the last runs end at different times and nothing is left to start, counts as idle.
- "while ideas waited": the span from the first start to the last start, while an idea
  was always there to take a free slot. This is what a scheduler controls.
Ideas per hour counts reviewed ideas over the campaign's wall time (baseline included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from machine import describe
from scripted_papers import ScriptedPapers

import scientist.graph.steps as steps
from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.graph.slots import SLOT_LOG

SLEEPY_PACK = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sleepy"


def utilization(rows: list[dict], slots: int) -> tuple[float, float]:
    """(whole span, while ideas waited) busy slot-seconds over slots x span."""
    first = min(row["start"] for row in rows)
    last_end = max(row["end"] for row in rows)
    last_start = max(row["start"] for row in rows)
    busy = sum(row["end"] - row["start"] for row in rows)
    window = sum(max(0.0, min(row["end"], last_start) - row["start"]) for row in rows)
    return busy / (slots * (last_end - first)), window / (slots * (last_start - first))


def measure(mode: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    cache = folder / "cache"
    cache.mkdir(parents=True)
    cache.chmod(0o777)
    os.environ["SCIENTIST_CACHE"] = str(cache)
    rng = random.Random(args.seed)
    lengths = [1.0] + [rng.uniform(1, 30) for _ in range(args.ideas)]  # the baseline: 1 s
    (cache / "sleepy_schedule.json").write_text(json.dumps(lengths))
    papers = ScriptedPapers(args.write_s, args.review_s)
    steps.write_paper, steps.review_paper = papers.write_paper, papers.review_paper
    config = CampaignConfig(
        template=str(SLEEPY_PACK),
        campaign_dir=folder / "c",
        seeds=[0],
        max_ideas=args.ideas,
        max_parallel=args.slots,
        max_writing=args.slots,
        scheduling=mode,
        literature="off",
    )
    started = time.monotonic()
    campaign = start_campaign(config, quiet=True)
    wall = time.monotonic() - started
    rows = [json.loads(line) for line in (campaign.root / SLOT_LOG).read_text().splitlines()]
    whole, waiting = utilization(rows, args.slots)
    reviewed = sum(1 for entry in campaign.archive() if entry.review_score is not None)
    return {
        "wall": wall,
        "whole": whole,
        "waiting": waiting,
        "reviewed": reviewed,
        "per_hour": 3600 * reviewed / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--ideas", type=int, default=24)
    parser.add_argument("--write-s", type=float, default=20.0)
    parser.add_argument("--review-s", type=float, default=10.0)
    parser.add_argument("--modes", nargs="+", default=["continuous", "batch"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    machine = describe()
    results = {}
    with tempfile.TemporaryDirectory(prefix="slot-utilization-") as tmp:
        for mode in args.modes:
            results[mode] = measure(mode, args, Path(tmp) / mode)
    print(f"machine: {machine}")
    print(
        f"{args.slots} slots, {args.ideas} ideas, runs 1-30 s (sleepy pack, seed {args.seed}), "
        "scripted writer "
        f"~{args.write_s:g} s and reviewer ~{args.review_s:g} s per idea"
    )
    print()
    print(
        "| scheduler | wall s | utilization (all) | utilization (while ideas waited) "
        "| reviewed | ideas/hour |"
    )
    print("|---|---|---|---|---|---|")
    for mode, row in results.items():
        print(
            f"| {mode} | {row['wall']:.0f} | {row['whole']:.3f} | {row['waiting']:.3f} "
            f"| {row['reviewed']:.0f} | {row['per_hour']:.0f} |"
        )


if __name__ == "__main__":
    main()
