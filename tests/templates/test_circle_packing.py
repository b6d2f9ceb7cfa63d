"""The circle_packing pack: its grader scores an invalid packing invalid (overlapping
circles, a circle outside the square) and the hand baseline valid, with the score its README
states; the offline demo on it ends with papers."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.templates import load_template

PACK = load_template("circle_packing").root
# the baseline's sums of radii per seed, as templates/circle_packing/README.md states them
STATED = {"seed 0": 2.6178, "seed 1": 2.6217, "seed 2": 2.6302, "mean of 3 seeds": 2.6232}


def grade(run_dir: Path, seeds: list[int], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "overrides.json"
    config.write_text(json.dumps({"seeds": seeds}))
    argv = ["grader.py", "--run-dir", run_dir, "--config", config, "--out-dir", tmp_path / "g"]
    return subprocess.run(
        [sys.executable, *map(str, argv)], cwd=PACK, capture_output=True, text=True, timeout=60
    )


def row_packing() -> dict:
    """26 valid circles: rows of 6, 6, 7 and 7, each circle as large as its row allows."""
    centers, radii = [], []
    for row, count in enumerate([6, 6, 7, 7]):
        r = min(1 / (2 * count), 1 / 8)
        centers += [[(2 * k + 1) * r, (2 * row + 1) / 8] for k in range(count)]
        radii += [r] * count
    return {"centers": centers, "radii": radii}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda p: p["centers"][1].__setitem__(0, p["centers"][0][0] + 0.1), "overlap by"),
        (lambda p: p["centers"][0].__setitem__(0, 0.05), "sticks out of the square by"),
    ],
    ids=["overlapping", "outside"],
)
def test_an_invalid_packing_is_scored_invalid(tmp_path, change, rule):
    run = tmp_path / "run"
    run.mkdir()
    valid = row_packing()
    (run / "packings.json").write_text(json.dumps({"0": valid}))
    graded = grade(run, [0], tmp_path)
    assert graded.returncode == 0, graded.stderr
    values = json.loads((tmp_path / "g" / "grade.json").read_text())["metrics"]
    assert values["sum_radii"]["values"] == [math.fsum(valid["radii"])]

    change(valid)
    (run / "packings.json").write_text(json.dumps({"0": valid}))
    (tmp_path / "g" / "grade.json").unlink()
    graded = grade(run, [0], tmp_path)
    assert graded.returncode != 0
    assert "invalid packing (seed 0): circle" in graded.stderr and rule in graded.stderr
    assert "(tolerance 1e-09;" in graded.stderr
    assert not (tmp_path / "g" / "grade.json").exists()


def test_the_hand_baseline_is_valid_with_the_score_its_readme_states(tmp_path):
    readme = (PACK / "README.md").read_text()
    for label, value in STATED.items():
        assert f"| {label} | {value:.4f} |" in readme
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "experiment.py", "--out-dir", str(out)], cwd=PACK, check=True, timeout=300
    )
    graded = grade(out, [0, 1, 2], tmp_path)
    assert graded.returncode == 0, graded.stderr
    values = json.loads((tmp_path / "g" / "grade.json").read_text())["metrics"]["sum_radii"]
    per_seed = [STATED[f"seed {seed}"] for seed in range(3)]
    assert values["values"] == pytest.approx(per_seed, abs=5e-5)
    assert sum(values["values"]) / 3 == pytest.approx(STATED["mean of 3 seeds"], abs=5e-5)


@pytest.mark.latex
def test_the_offline_demo_on_the_pack_writes_papers(tmp_path, run_cache):
    config = CampaignConfig(
        template="circle_packing",
        smoke=True,
        max_ideas=2,
        campaign_dir=tmp_path / "c",
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)
    entries = campaign.archive()
    assert sorted(e.id for e in entries) == ["0_0_grid_start", "0_1_many_wide_restarts"]
    for entry in entries:
        assert entry.status == "done" and entry.grade == "graded"
        assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()
    assert campaign.ledger() == []
