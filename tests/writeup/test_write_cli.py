"""`scientist write <campaign>/ideas/<id>` on a campaign directory written to disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, ModelsConfig
from scientist.experiments.runs import seal_run
from scientist.llm.replay_server import ReplayServer
from scientist.models import RunResult
from scientist.records.runs import OUTPUTS
from scientist.templates import load_template
from scientist.writeup.context import SECTIONS
from tests.writeup.conftest import IDEA, TOY, record_run


def finished(run_dir: Path, scores: list[float], config: dict) -> None:
    record_run(run_dir, "x", 0, scores, config)
    result = RunResult(exit_code=0, status="ok", output_dir=run_dir / OUTPUTS)
    seal_run(run_dir, load_template(str(TOY)), result)
    (run_dir / "overrides.json").write_text(json.dumps({"lr": config["lr"]}))


def scientist(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from scientist.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.latex
def test_write_rewrites_the_paper_of_one_idea(tmp_path: Path) -> None:
    campaign = Campaign.create(tmp_path / "camp", CampaignConfig(template=str(TOY)))
    finished(campaign.baseline_dir, [0.50, 0.52], {"lr": 0.01, "width": 16})
    idea_dir = campaign.idea_dir("higher_lr")
    finished(campaign.run_dir("higher_lr", 1), [0.70, 0.74], {"lr": 0.1, "width": 16})
    (idea_dir / "idea.json").write_text(IDEA.model_dump_json())

    done = scientist("write", str(idea_dir))
    assert done.returncode == 0, done.stderr
    assert "compiled: True" in done.stdout and "unsourced numbers: 0" in done.stdout
    paper = json.loads((campaign.paper_dir("higher_lr") / "paper.json").read_text())
    assert paper["pdf_path"] == "ideas/higher_lr/paper/paper.pdf"  # relative to the campaign
    assert paper["compiled"] and (campaign.root / paper["pdf_path"]).is_file()


def section_answers() -> list[dict]:
    """A draft for every section, and the critique of the Results, the one section with a
    finding (the results figure is not referred to)."""
    drafts = [
        {"json": {"latex": f"Model-written {key} text."}, "match": f"Write the **{title}** section"}
        for key, title, _ in SECTIONS
    ]
    critique = {"json": {"latex": "See Figure~\\ref{fig:score}."}, "match": "draft of the"}
    return [*drafts, critique]


@pytest.mark.latex
def test_write_sends_new_requests(
    tmp_path: Path, replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    models = ModelsConfig(write="openai:gpt-3.5-turbo", base_url=f"{replay_server.url}/v1")
    campaign = Campaign.create(tmp_path / "camp", CampaignConfig(template=str(TOY), models=models))
    finished(campaign.baseline_dir, [0.50, 0.52], {"lr": 0.01, "width": 16})
    idea_dir = campaign.idea_dir("higher_lr")
    finished(campaign.run_dir("higher_lr", 1), [0.70, 0.74], {"lr": 0.1, "width": 16})
    (idea_dir / "idea.json").write_text(IDEA.model_dump_json())
    replay_server.load(section_answers() * 2)

    first = scientist("write", str(idea_dir))
    assert first.returncode == 0, first.stderr
    asked = len(replay_server.requests)
    assert asked == len(SECTIONS) + 1
    attempts = campaign.paper_dir("higher_lr") / "attempts"
    earlier = sorted(attempts.iterdir())

    again = scientist("write", str(idea_dir))
    assert again.returncode == 0, again.stderr
    assert len(replay_server.requests) == 2 * asked  # asked anew, not replayed from the journal
    journal = (campaign.root / "journal.jsonl").read_text().splitlines()
    assert sum('"event":"answered"' in line for line in journal) == 2 * asked
    # the earlier attempt's files are kept beside the new one's, each with its record
    later = sorted(attempts.iterdir())
    assert later[: len(earlier)] == earlier and len(later) > len(earlier)
    assert (earlier[-1] / "paper.json").is_file() and (later[-1] / "paper.json").is_file()


def test_write_without_an_idea_is_one_clear_error(tmp_path: Path) -> None:
    done = scientist("write", str(tmp_path))
    assert done.returncode == 2
    assert "has no idea.json" in done.stderr and "Traceback" not in done.stderr
