"""What a kill costs: the same scripted campaign uninterrupted, and SIGKILLed with one model
request in flight, then resumed from another working directory.

Every role has a model: the real openai client against a replay server in this process,
which counts every request (`tests/graph/scripted_campaign.py`: one idea, a code edit that
mismatches once, one run, eight sections with a critique each, two reviewers, an area
chair; every answer costs $0.10).

    python benchmarks/resume_cost.py [--kill-at "draft of the **Method** section"]

Prints the requests the server received and the ledger's settled and estimated costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from machine import describe

from scientist.campaign import Campaign
from scientist.llm.replay_server import ReplayServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.graph.scripted_campaign import (
    answer_to,
    critique_request,
    finish,
    kill_when,
    resume_elsewhere,
    scientist_env,
    script,
    start_run,
    writable_cache,
)

TIMEOUT_S = 600


def measure(folder: Path, kill_at: str | None) -> tuple[int, int, float, float]:
    """(requests sent, distinct requests, settled cost, estimated cost) of one campaign."""
    folder.mkdir(parents=True)
    env = scientist_env(writable_cache(folder))
    with ReplayServer(script()) as server:
        held = server.hold(kill_at) if kill_at else None
        process, root = start_run(server.url, folder, env)
        if held is not None:
            kill_when(process, held.arrived.is_set, TIMEOUT_S)
            server.load([answer_to(kill_at)])  # the killed request took its answer with it
            held.release()
            process = resume_elsewhere(root, folder, env)
        finish(process, TIMEOUT_S)
        sent = list(server.fingerprints)
    ledger = Campaign.open(root).ledger()
    settled = sum(entry.usage.cost_usd for entry in ledger if entry.settled)
    estimated = sum(entry.usage.cost_usd for entry in ledger if not entry.settled)
    return len(sent), len(set(sent)), settled, estimated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill-at", default=critique_request("Method"))
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scientist-bench-") as scratch:
        rows = {
            "uninterrupted": measure(Path(scratch) / "reference", None),
            "killed + resumed": measure(Path(scratch) / "killed", args.kill_at),
        }
    print(describe())
    print(f"kill point: a request fitting {args.kill_at!r} in flight")
    print(f"{'campaign':18} {'requests':>8} {'distinct':>8} {'settled $':>10} {'estimated $':>12}")
    for name, (sent, distinct, settled, estimated) in rows.items():
        print(f"{name:18} {sent:8d} {distinct:8d} {settled:10.4f} {estimated:12.4f}")
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
