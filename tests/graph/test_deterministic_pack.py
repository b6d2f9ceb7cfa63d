"""An ODE-like deterministic pack through a whole offline campaign: one seed per run, a paper
that claims exactly what one run shows, and a review that does not ask for seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.review.meta import ReviewRecord
from tests.conftest import EXPERIMENT_PRELUDE

MANIFEST = """
name = "sir_model"
title = "An SIR epidemic, integrated"
description = "A deterministic SIR model integrated by Euler steps; lower peak is better."
seeding = "deterministic"

[metric]
name = "peak_infected"
goal = "minimize"

[resources]
timeout_s = 60

[search_space]
beta = [0.2, 0.3, 0.4]

[sanity.peak_infected]
gt = 0
lt = 1
"""

EXPERIMENT = (
    EXPERIMENT_PRELUDE
    + """
config = {"beta": 0.4, "gamma": 0.1, "seeds": [0]}
config.update(json.loads(args.config.read_text()) if args.config else {})
s, i, peak = 0.99, 0.01, 0.01
for _ in range(2000):
    infections = config["beta"] * s * i
    s, i = s - 0.05 * infections, i + 0.05 * (infections - config["gamma"] * i)
    peak = max(peak, i)
args.out_dir.mkdir(parents=True, exist_ok=True)
info = {"metrics": {"peak_infected": {"values": [peak for _ in config["seeds"]]}},
        "config": config, "seeds": config["seeds"], "runtime_s": 0.01}
(args.out_dir / "final_info.json").write_text(json.dumps(info))
"""
)

PLOT = """
import argparse, json
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

parser = argparse.ArgumentParser()
parser.add_argument("--runs", nargs="+", type=Path, required=True)
parser.add_argument("--out-dir", type=Path, required=True)
args = parser.parse_args()
args.out_dir.mkdir(parents=True, exist_ok=True)
peaks = [json.loads((r / "final_info.json").read_text())["metrics"]["peak_infected"]["values"][0]
         for r in args.runs]
figure, axis = plt.subplots(figsize=(3, 2))
axis.bar([r.name for r in args.runs], peaks)
figure.savefig(args.out_dir / "peak.pdf")
"""

IDEAS = [
    {
        "name": "lower_contact",
        "title": "Fewer contacts",
        "hypothesis": "A lower contact rate flattens the peak.",
        "plan": "Run with beta = 0.2.",
        "overrides": {"beta": 0.2},
    }
]


@pytest.mark.latex
def test_a_deterministic_pack_runs_once_and_is_not_asked_for_seeds(tmp_path: Path, run_cache):
    pack = tmp_path / "sir_model"
    pack.mkdir()
    for name, text in (
        ("template.toml", MANIFEST),
        ("experiment.py", EXPERIMENT),
        ("plot.py", PLOT),
        ("seed_ideas.json", json.dumps(IDEAS)),
    ):
        (pack / name).write_text(text)
    config = CampaignConfig(
        template=str(pack), campaign_dir=tmp_path / "c", seeds=[0, 1, 2], max_ideas=1
    )
    campaign = start_campaign(config, quiet=True)
    [entry] = campaign.archive()
    assert entry.status == "done" and entry.improvement > 0 and entry.review_score is not None
    for run_dir in (campaign.baseline_dir, campaign.run_dir(entry.id, 1)):
        assert json.loads((run_dir / "final_info.json").read_text())["seeds"] == [0]

    assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()
    tex = (campaign.paper_dir(entry.id) / "paper.tex").read_text()
    assert "deterministic, so one run measures each configuration exactly" in tex
    assert "the idea improved on the baseline" in tex and "a single run; no spread" not in tex
    review = ReviewRecord.model_validate_json(
        (campaign.reviews_dir(entry.id) / "review_0.json").read_text()
    ).review
    assert not any("seed" in point.lower() for point in review.weaknesses + review.questions)
    assert any("deterministic" in point for point in review.strengths)
