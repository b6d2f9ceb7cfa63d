"""What a paper costs in model calls: requests, tokens and dollars of a smoke campaign.

Each setting runs a real one-idea smoke campaign on a shipped pack with every role on one
model, served by the replay server (`scientist.llm.replay_server`) through the real openai
or anthropic client. The script answers the way a capable model does: an idea and its
reflection; a code round that first asks to READ a file, then sends edits of which one
breaks the run, a debug round that fixes it, and DONE when asked for another run; every
section drafted, the Method with an undefined LaTeX command, and critiques for the sections
the writer asks about; three reviews that pass the review checks (so, as for a capable
model, no reflection round is sent), and the area chair's meta-review.
Token counts are the server's (about 4 characters a token), and
the ledger prices them at `families.toml`'s rates for the named model.

    python benchmarks/cost_per_paper.py [--packs merge namm] [--wires openai anthropic]

Prints one row per pack and wire: requests, input / cached / output tokens, dollars per
paper, and how many requests repeated an earlier one byte for byte; then the machine.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
from pathlib import Path

from machine import describe

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.llm.replay_server import ReplayServer
from scientist.review.form import REVIEWS_ROOT
from scientist.writeup.context import SECTIONS

MODELS = {"openai": "openai:gpt-4o-2024-08-06", "anthropic": "anthropic:claude-sonnet-4-5"}
COPIES = 6  # answers of each kind on hand (the campaign takes what it asks for)
LOOKED = {"figures": [], "summary": "The figures show both runs, labelled, as the idea expects."}


def block(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def merge_idea() -> tuple[dict, str, list[str]]:
    """A code idea for `merge` (a sign-consensus operator), the file it reads first, and its
    edits: the first set breaks the run (a misspelt name), the second fixes it."""
    merge_branch = '    if method not in ("ties", "dare_ties", "dare_linear"):\n'
    methods = (
        'METHODS = ("linear", "task_arithmetic", "ties", "dare_ties", "dare_linear", "slerp")\n'
    )
    choice = '    "ps_operator": ("task_arithmetic", "ties", "dare_ties", "dare_linear"),\n'
    branch = (
        '    if method == "sign_consensus":\n'
        "        deltas = torch.stack([s.float() - base.float() for s in sources])\n"
        "        w = torch.tensor(weights).reshape(-1, *([1] * base.dim()))\n"
        "        agree = deltas.sign() == deltas.sum(dim=0).sign()\n"
        "        merged = (base.float() + (deltas * w * agree).sum(dim=0)).to(base.dtype)\n"
        "        return merged if out is None else out.copy_(merged)\n"
    )
    broken = branch.replace("deltas.sum(dim=0)", "delta.sum(dim=0)")
    idea = {
        "name": "sign_consensus",
        "title": "Sign-consensus task arithmetic",
        "hypothesis": "Adding only the task-vector entries whose signs agree across sources "
        "avoids interference between the two specialists.",
        "plan": "Add a sign_consensus merge operator to mergepack/merging.py, allow it as "
        "ps_operator in mergepack/settings.py, and evolve per-layer weights with it.",
        "interestingness": 7,
        "feasibility": 8,
        "novelty": 6,
        "overrides": {"ps_operator": "sign_consensus"},
    }
    first = "I add the operator and allow it as a choice:\n\n" + "\n".join(
        [
            block("mergepack/merging.py", methods, methods[:-2] + ', "sign_consensus")\n'),
            block("mergepack/merging.py", merge_branch, broken + merge_branch),
            block("mergepack/settings.py", choice, choice[:-3] + ', "sign_consensus"),\n'),
        ]
    )
    fix = "The name was misspelt:\n\n" + block("mergepack/merging.py", broken, branch)
    return idea, "mergepack/settings.py", [first, fix]


def namm_idea() -> tuple[dict, str, list[str]]:
    """A code idea for `namm` (CMA-ES started away from keep-everything), the file it reads,
    and its edits: the first breaks the run (a misspelt function), the second fixes it."""
    idea = {
        "name": "offset_cma_start",
        "title": "Starting the memory model's search away from keep-everything",
        "hypothesis": "Starting CMA-ES from a scorer that already evicts, rather than from the "
        "zero genome that keeps every token, finds a better eviction policy in the same "
        "number of generations.",
        "plan": "Start CMA-ES in nammlib/evolve.py from a constant genome of 0.5 and compare "
        "with the zero start and the hand policies at the 25% budget.",
        "interestingness": 5,
        "feasibility": 9,
        "novelty": 4,
        "overrides": {},
    }
    source = (Path(__file__).parents[1] / "templates/namm/nammlib/evolve.py").read_text()
    line = next(ln for ln in source.splitlines(keepends=True) if "np.zeros(spec.n_params)," in ln)
    broken = line.replace("np.zeros(spec.n_params)", "np.ful(spec.n_params, 0.5)")
    first = "Starting from 0.5:\n\n" + block("nammlib/evolve.py", line, broken)
    fixed = line.replace("np.zeros(spec.n_params)", "np.full(spec.n_params, 0.5)")
    fix = "A misspelt function:\n\n" + block("nammlib/evolve.py", broken, fixed)
    return idea, "nammlib/evolve.py", [first, fix]


IDEAS = {"merge": merge_idea, "namm": namm_idea}


def script(pack: str) -> list[dict]:
    """Every answer the campaign may ask for, each matched by its request."""
    idea, read, (first, fix) = IDEAS[pack]()
    review = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
    entries = [
        {"match": "Propose 1 new research ideas", "json": {"ideas": [idea]}},
        {"match": "Reflection round 1\\. Here are your ideas", "json": {"ideas": [idea]}},
        {"match": f"# Idea: {idea['title']}", "text": f"READ {read}"},
        {"match": "The files you asked for", "text": first},
        {"match": "failed \\(", "text": fix},
        *[{"match": "This is run [2-9] of", "text": "DONE"}] * COPIES,
        *[{"match": "drew these \\d+ figures", "json": LOOKED}] * COPIES,
        *[{"match": "Check the figures of a paper", "json": {"figures": []}}] * COPIES,
    ]
    for key, title, _ in SECTIONS:
        prose = f"The {key} of this study, stated without numbers."
        if key == "method":
            prose += " \\undefinedcommand{x}"  # one LaTeX error for the fix round
        entries.append(
            {"match": f"Write the \\*\\*{title}\\*\\* section", "json": {"latex": prose}}
        )
        entries.append(
            {"match": f"draft of the \\*\\*{title}\\*\\* section", "json": {"latex": prose}}
        )
    entries += [{"match": "(?i)failed to compile", "json": {"lines": "Plain text."}}] * COPIES
    entries += [{"match": "(?s)Review the paper", "json": review}] * COPIES
    entries += [{"match": "(?s)Reflection round \\d+ of", "json": review}] * COPIES
    chair = {"summary": "A clear study.", "strengths": ["seeds"], "weaknesses": ["one pack"]}
    entries += [{"match": "(?s)area chair", "json": chair}] * COPIES
    return entries


def measure(pack: str, wire: str) -> dict[str, float]:
    spec = MODELS[wire]
    with ReplayServer(script(pack)) as server, tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "c"
        base_url = f"{server.url}/v1" if wire == "openai" else server.url
        config = CampaignConfig(
            template=pack,
            smoke=True,
            seeds=[0],
            confirm_seeds=0,
            max_ideas=1,
            campaign_dir=root,
            literature="off",
            models={"default": spec, "base_url": base_url},
        )
        start_campaign(config, quiet=True)
        campaign = Campaign.open(root)
        ledger = campaign.ledger()
        papers = sum(
            1 for e in campaign.archive() if (campaign.paper_dir(e.id) / "paper.pdf").is_file()
        )
        repeated = sum(n - 1 for n in collections.Counter(server.fingerprints).values())
        usage = [e.usage.model_dump() for e in ledger]
        return {
            "requests": len(server.requests),
            "input": sum(u["input_tokens"] for u in usage),
            "cached": sum(u.get("cached_input_tokens", 0) for u in usage),
            "output": sum(u["output_tokens"] for u in usage),
            "usd": sum(u["cost_usd"] for u in usage),
            "papers": papers,
            "repeated": repeated,
            "failed": sum(1 for e in ledger if not e.ok),
            "roles": _by_role(ledger),
        }


def _by_role(ledger: list) -> str:
    """'role: calls, $cost' for each role, in the order of the campaign."""
    calls: dict[str, int] = collections.Counter(e.role for e in ledger)
    spent: dict[str, float] = collections.defaultdict(float)
    for entry in ledger:
        spent[entry.role] += entry.usage.cost_usd
    return ", ".join(f"{role} {n} ${spent[role]:.3f}" for role, n in calls.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", nargs="+", default=["merge", "namm"], choices=sorted(IDEAS))
    parser.add_argument("--wires", nargs="+", default=["openai", "anthropic"], choices=MODELS)
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "replay")
    os.environ.setdefault("ANTHROPIC_API_KEY", "replay")
    print(
        "| pack | model | requests | input tok | cached tok | output tok | $ per paper "
        "| repeated | failed | calls by role |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for pack in args.packs:
        for wire in args.wires:
            row = measure(pack, wire)
            per_paper = row["usd"] / max(row["papers"], 1)
            print(
                f"| {pack} | {MODELS[wire]} | {row['requests']} | {row['input']} | "
                f"{row['cached']} | {row['output']} | {per_paper:.3f} | {row['repeated']} | "
                f"{row['failed']} | {row['roles']} |",
                flush=True,
            )
    print(f"\nmachine: {describe()}")


if __name__ == "__main__":
    main()
