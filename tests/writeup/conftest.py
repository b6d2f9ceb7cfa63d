"""Fixtures for the writeup tests: a campaign on the toy pack with recorded runs."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, SandboxConfig, WriteupConfig
from scientist.models import ExperimentRun, FinalInfo, Idea, RunResult
from scientist.records.runs import FINAL_INFO, OUTPUTS
from scientist.sandbox import Sandbox, open_sandbox
from scientist.templates import Template, load_template

TOY = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
IDEA = Idea(
    name="higher_lr",
    title="A tenfold learning rate",
    hypothesis="The default learning rate is too small.",
    plan="Run with a larger learning rate on the same seeds.",
    overrides={"lr": 0.1},
)


def record_run(
    run_dir: Path, idea_id: str, index: int, scores: list[float], config: dict
) -> ExperimentRun:
    """Write a contract `final_info.json` into `run_dir/outputs` and describe the run."""
    losses = [1 - s for s in scores]
    info = {  # plot.py reads the means; the sample stds are left for scientist to compute
        "metrics": {
            "score": {"mean": statistics.fmean(scores), "values": scores},
            "train_loss": {"mean": statistics.fmean(losses), "values": losses},
        },
        "config": config,
        "seeds": list(range(len(scores))),
        "runtime_s": 12.5 * len(scores),
    }
    (run_dir / OUTPUTS).mkdir(parents=True, exist_ok=True)
    (run_dir / OUTPUTS / FINAL_INFO).write_text(json.dumps(info))
    return ExperimentRun(
        idea_id=idea_id,
        index=index,
        result=RunResult(exit_code=0, status="ok", output_dir=run_dir),
        final_info=FinalInfo.model_validate(info),
        run_dir=run_dir,
        overrides={k: v for k, v in config.items() if k == "lr" and v != 0.01},
    )


@pytest.fixture(scope="module")
def toy_template() -> Template:
    return load_template(str(TOY))


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return open_sandbox(SandboxConfig(kind="local"))


@pytest.fixture(scope="module")
def toy_campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    root = tmp_path_factory.mktemp("campaign") / "toy"
    return Campaign.create(root, CampaignConfig(template=str(TOY)))


@pytest.fixture(scope="module")
def toy_runs(toy_campaign: Campaign) -> tuple[ExperimentRun, list[ExperimentRun]]:
    base_config = {"lr": 0.01, "width": 16, "depth": 2}
    baseline = record_run(
        toy_campaign.baseline_dir, "baseline", 0, [0.512, 0.498, 0.527], base_config
    )
    runs = [
        record_run(
            toy_campaign.run_dir("higher_lr", 1),
            "higher_lr",
            1,
            [0.731, 0.744, 0.716],
            {**base_config, "lr": 0.1},
        ),
        record_run(
            toy_campaign.run_dir("higher_lr", 2),
            "higher_lr",
            2,
            [0.655, 0.671, 0.662],
            {**base_config, "lr": 0.1, "width": 32},
        ),
    ]
    return baseline, runs


@pytest.fixture
def writeup_config() -> WriteupConfig:
    return WriteupConfig(fix_rounds=2, compile_timeout_s=120, page_limit=8)
