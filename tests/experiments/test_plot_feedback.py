"""Plot feedback in the code loop, end to end: the toy pack with a plot.py that draws a blank
and a drawn figure, run in the local sandbox; code and vision models answered by the replay
server through the real openai client, so the tests read what each request carried."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import Context, open_context
from scientist.errors import BudgetExceeded
from scientist.experiments.develop import develop_idea
from scientist.experiments.plot_feedback import FEEDBACK_FILE, PlotFeedback, plot_feedback
from scientist.experiments.search_develop import develop_by_search, model_editor
from scientist.graph.nodes import baseline
from scientist.llm import open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.models import ArchiveEntry, ExperimentRun, Idea
from scientist.sandbox import open_sandbox

PLOT = '''"""Two figures: `empty.png` (nothing drawn on it) and `bars.png` (a bar per run)."""
import argparse
from pathlib import Path

from PIL import Image, ImageDraw

parser = argparse.ArgumentParser()
parser.add_argument("--runs", nargs="+", type=Path, required=True)
parser.add_argument("--out-dir", type=Path, required=True)
args = parser.parse_args()
args.out_dir.mkdir(parents=True, exist_ok=True)
Image.new("RGB", (80, 60), "white").save(args.out_dir / "empty.png")
bars = Image.new("RGB", (80, 60), "white")
for k, _ in enumerate(args.runs):
    ImageDraw.Draw(bars).rectangle([10 + 30 * k, 20, 30 + 30 * k, 59], fill="black")
bars.save(args.out_dir / "bars.png")
'''
EDIT = "experiment.py\n<<<<<<< SEARCH\nBONUS = 0.0\n=======\nBONUS = 0.05\n>>>>>>> REPLACE\n"
IDEA = Idea(name="bonus", title="A bonus", hypothesis="A bonus helps.", plan="Add 0.05.")
CODER, LOOKER = "openai:replay-model", "openai:looker"
FIRST, SECOND = "This is run 1 of at most", "This is run 2 of at most"
LOOK = "drew these"
VERDICT = {
    "figures": [
        {
            "figure": "bars.png",
            "degenerate": False,
            "mislabelled": True,
            "supports_idea": False,
            "notes": "label the y axis with the score",
        },
        {  # the model cannot make a blank figure fine
            "figure": "empty.png",
            "degenerate": False,
            "mislabelled": False,
            "supports_idea": True,
            "notes": "",
        },
    ],
    "summary": "The bars do not show the bonus.",
}


@pytest.fixture
def pack(tmp_path: Path, toy_pack: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(toy_pack, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "plot.py").write_text(PLOT)
    return root


def config_for(pack: Path, server: ReplayServer, **changes: Any) -> CampaignConfig:
    models = {"code": CODER, "base_url": f"{server.url}/v1", **changes.pop("models", {})}
    settings = {"smoke": True, "seeds": [0], "max_runs_per_idea": 2, **changes}
    return CampaignConfig(template=str(pack), models=models, literature="off", **settings)


@contextmanager
def opened(tmp_path: Path, config: CampaignConfig) -> Iterator[tuple[Context, ExperimentRun]]:
    """A campaign's context with its baseline run done."""
    campaign = Campaign.create(tmp_path / "campaign", config)
    sandbox = open_sandbox(config.sandbox, campaign=campaign.name)
    with open_llm(config.models, campaign=campaign, budget_usd=config.budget_usd) as llm:
        ctx = open_context(campaign, sandbox=sandbox, llm=llm)
        yield ctx, baseline(ctx, {})["baseline"]


def last_user(request: dict) -> Any:
    return request["body"]["messages"][-1]["content"]


def image_parts(request: dict) -> list[dict]:
    content = last_user(request)
    parts = content if isinstance(content, list) else []
    return [part for part in parts if part["type"] == "image_url"]


def stored(ctx: Context, entry: ArchiveEntry, index: int) -> PlotFeedback:
    path = ctx.campaign.run_dir(entry.id, index) / FEEDBACK_FILE
    return PlotFeedback.model_validate_json(path.read_text())


def test_a_blank_figure_is_caught_without_a_vision_model_and_told_in_the_next_prompt(
    tmp_path: Path, pack: Path, replay_server: ReplayServer, run_cache
):
    replay_server.load([{"match": FIRST, "text": EDIT}, {"match": SECOND, "text": "DONE"}])
    entry = ArchiveEntry(id="1_bonus", idea=IDEA, status="selected")
    with opened(tmp_path, config_for(pack, replay_server)) as (ctx, base):
        assert ctx.vision_model("code") is None  # the replay model takes no images
        outcome = develop_idea(ctx, entry, base, [])
        feedback = stored(ctx, entry, 1)
        figures = ctx.campaign.run_dir(entry.id, 1) / "figures"
        assert sorted(path.name for path in figures.glob("*.png")) == ["bars.png", "empty.png"]

    assert outcome.entry.status == "done" and len(outcome.runs) == 1
    empty, bars = sorted(feedback.figures, key=lambda finding: finding.figure != "empty.png")
    assert empty.blank and empty.pixel_variance == 0.0
    assert not bars.blank and bars.pixel_variance > 0.01 and bars.supports_idea is None
    assert "1 of 2 figure(s) blank: empty.png" in feedback.summary
    assert "no vision model" in feedback.looked
    assert len(replay_server.requests) == 2  # the two code prompts, no vision request
    assert not any(image_parts(request) for request in replay_server.requests)
    assert "Figures of run" not in last_user(replay_server.requests[0])
    told = last_user(replay_server.requests[1])
    assert "## Figures of run 1" in told and "- empty.png: BLANK (pixel variance 0)" in told
    assert "- bars.png: no problem found" in told


def test_a_vision_model_sees_the_figures_and_its_findings_reach_the_next_prompt(
    tmp_path: Path, pack: Path, replay_server: ReplayServer, run_cache
):
    replay_server.load(
        [
            {"match": FIRST, "text": EDIT},
            {"match": LOOK, "json": VERDICT},
            {"match": SECOND, "text": "DONE"},
        ]
    )
    vision = {"capabilities": {CODER: {"vision": True}}}
    entry = ArchiveEntry(id="1_bonus", idea=IDEA, status="selected")
    with opened(tmp_path, config_for(pack, replay_server, models=vision)) as (ctx, base):
        outcome = develop_idea(ctx, entry, base, [])
        feedback = stored(ctx, entry, 1)
        code = ctx.campaign.idea_dir(entry.id) / "code"
        again = plot_feedback(ctx, entry, base, outcome.runs[0], code)

    assert outcome.entry.status == "done"
    assert again == feedback and len(replay_server.requests) == 3  # stored, not asked again
    look = replay_server.requests[1]
    assert LOOK in json.dumps(last_user(look)) and "A bonus helps." in json.dumps(last_user(look))
    [image] = image_parts(look)  # the blank figure is not worth showing
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    assert feedback.looked == f"looked at by {CODER}"
    empty, bars = sorted(feedback.figures, key=lambda finding: finding.figure != "empty.png")
    assert empty.blank and empty.supports_idea is None
    assert bars.mislabelled and bars.supports_idea is False and not bars.degenerate
    assert feedback.summary.endswith("The bars do not show the bonus.")
    told = last_user(replay_server.requests[2])
    assert "- empty.png: BLANK (pixel variance 0)" in told
    assert "bars.png: MISLABELLED, does not show what the idea claims" in told
    assert "label the y axis with the score" in told and "do not show the bonus" in told


def test_in_the_tree_search_a_failed_vision_call_is_noted_and_the_child_is_told(
    tmp_path: Path, pack: Path, replay_server: ReplayServer, run_cache
):
    replay_server.load(
        [
            {"match": FIRST, "text": EDIT},
            {"match": LOOK, "status": 400, "error": "images refused"},
            {"match": "## Figures of run 1", "text": "DONE"},
        ]
    )
    looker = {"vision": LOOKER, "capabilities": {LOOKER: {"vision": True}}}
    config = config_for(pack, replay_server, models=looker, search="abmcts", search_budget=1)
    entry = ArchiveEntry(id="1_bonus", idea=IDEA, status="selected")
    with opened(tmp_path, config) as (ctx, base):
        outcome = develop_by_search(ctx, ctx.model("code"), entry, base, [])
        [run] = outcome.runs
        child = ctx.campaign.search_dir(entry.id) / "node_2"
        shutil.copytree(ctx.campaign.search_dir(entry.id) / "node_1", child)
        edit = model_editor(ctx, ctx.model("code"), entry, base, [])
        assert not edit(child, run, CODER).applied  # the child answered DONE
        feedback = stored(ctx, entry, 1)

    assert outcome.entry.status == "done"
    look = next(r for r in replay_server.requests if LOOK in json.dumps(last_user(r)))
    assert look["body"]["model"] == "looker" and len(image_parts(look)) == 1
    assert feedback.looked.startswith("vision check failed") and "images refused" in feedback.looked
    told = last_user(replay_server.requests[-1])
    assert replay_server.requests[-1]["body"]["model"] == "replay-model"
    assert "- empty.png: BLANK" in told and "- bars.png: no problem found" in told


def test_a_budget_stop_in_the_vision_call_propagates_and_stores_nothing(
    tmp_path: Path, pack: Path, replay_server: ReplayServer, run_cache
):
    replay_server.load([{"match": FIRST, "text": EDIT}, {"match": SECOND, "text": "DONE"}])
    looker = {
        "vision": LOOKER,
        "capabilities": {LOOKER: {"vision": True}},
        "prices": {CODER: (0.0, 0.0), LOOKER: (0.0, 1000.0)},  # a look could cost $4
    }
    config = config_for(pack, replay_server, models=looker, budget_usd=1.0)
    entry = ArchiveEntry(id="1_bonus", idea=IDEA, status="selected")
    with opened(tmp_path, config) as (ctx, base):
        with pytest.raises(BudgetExceeded):
            develop_idea(ctx, entry, base, [])
        assert not (ctx.campaign.run_dir(entry.id, 1) / FEEDBACK_FILE).exists()
    assert len(replay_server.requests) == 1  # the look was refused unsent


def test_with_plot_feedback_off_no_figures_are_drawn(
    tmp_path: Path, pack: Path, replay_server: ReplayServer, run_cache
):
    replay_server.load([{"match": FIRST, "text": EDIT}, {"match": SECOND, "text": "DONE"}])
    entry = ArchiveEntry(id="1_bonus", idea=IDEA, status="selected")
    with opened(tmp_path, config_for(pack, replay_server, plot_feedback=False)) as (ctx, base):
        develop_idea(ctx, entry, base, [])
        run_dir = ctx.campaign.run_dir(entry.id, 1)
        assert not (run_dir / "figures").exists() and not (run_dir / FEEDBACK_FILE).exists()
    assert "Figures of run" not in last_user(replay_server.requests[1])
