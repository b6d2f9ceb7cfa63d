"""A writer is shown only the evidence a section may cite, and the verifier holds it to that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, ModelsConfig
from scientist.llm import open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.models import ExperimentRun, FinalInfo, RunResult
from scientist.records.figures import Figure
from scientist.records.runs import FINAL_INFO, OUTPUTS
from scientist.sandbox import Sandbox
from scientist.templates import Template
from scientist.writeup import write_paper
from scientist.writeup.citations import Bibliography
from scientist.writeup.context import SECTIONS, PaperContext
from scientist.writeup.evidence import build_evidence
from tests.conftest import stage_context, user_text
from tests.writeup.conftest import IDEA, TOY

EXTRA = [f"policy{k}_accuracy" for k in range(40)]
"""Metrics beyond the primary one, as a pack like namm reports them (dozens per run)."""
UNSHOWN = "resRunOnePolicySevenAccuracyMean"  # policy7: not in the table, in no figure
RESULTS = (
    "The best run reached \\resBestMean{} against 0.510 for the baseline; "
    f"policy seven read \\{UNSHOWN}{{}}, that is 47.25."
)


def measured_run(run_dir: Path, idea_id: str, index: int, scores: list[float]) -> ExperimentRun:
    """A run whose `final_info.json` reports `score`, `train_loss` and the `EXTRA` metrics
    (`policy<k>_accuracy` near 40 + k, far from every other number of the paper)."""
    metrics = {
        "score": {"values": scores},
        "train_loss": {"values": [1 - s for s in scores]},
        **{name: {"values": [40.2 + k, 40.3 + k]} for k, name in enumerate(EXTRA)},
    }
    config = {"lr": 0.1 if index else 0.01, "width": 16, "depth": 2}
    info = {"metrics": metrics, "config": config, "seeds": [0, 1], "runtime_s": 30.0}
    (run_dir / OUTPUTS).mkdir(parents=True, exist_ok=True)
    (run_dir / OUTPUTS / FINAL_INFO).write_text(json.dumps(info))
    return ExperimentRun(
        idea_id=idea_id,
        index=index,
        result=RunResult(exit_code=0, status="ok", output_dir=run_dir),
        final_info=FinalInfo.model_validate(info),
        run_dir=run_dir,
        overrides={"lr": 0.1} if index else {},
    )


def script() -> list[dict]:
    entries: list[dict] = []
    for key, title, _ in SECTIONS:
        body = RESULTS if key == "results" else f"Model-written {key} text."
        entries.append({"json": {"latex": body}, "match": f"Write the **{title}** section"})
        entries.append({"json": {"latex": body}, "match": f"draft of the **{title}** section"})
    entries.append({"json": {"latex": RESULTS}, "match": "The **Results** section contains"})
    return entries


@pytest.mark.latex
def test_section_prompts_carry_only_citable_macros(
    tmp_path: Path,
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
    toy_template: Template,
    sandbox: Sandbox,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load(script())
    campaign = Campaign.create(tmp_path / "camp", CampaignConfig(template=str(TOY)))
    baseline = measured_run(campaign.baseline_dir, "baseline", 0, [0.50, 0.52])
    runs = [measured_run(campaign.run_dir("many", 1), "many", 1, [0.70, 0.74])]
    models = ModelsConfig(write="openai:gpt-3.5-turbo", base_url=f"{replay_server.url}/v1")
    ctx = stage_context(campaign, toy_template, sandbox=sandbox, llm=open_llm(models))
    paper = write_paper(ctx, idea_id="many", idea=IDEA, baseline=baseline, runs=runs)

    prompts = [user_text(r["body"]) for r in replay_server.requests]
    draft = prompts[0]
    # the primary metric, the table's metrics (the first four), never the other 38 extras
    for shown in ("resBestMean", "resBaselineScoreMean", "resRunOneTrainLossMean"):
        assert f"`\\{shown}`" in draft
    assert "resRunOnePolicyOneAccuracyMean" in draft and UNSHOWN not in draft
    assert "PolicyTwoAccuracy" not in draft and len(draft) < 5000
    critique = next(p for p in prompts if "draft of the **Results**" in p)
    listed = critique.split("from this list")[1].splitlines()[0]
    assert "resBestMean" in listed and UNSHOWN not in listed
    # a copy of a value the section was shown is sourced; one of a value it was not is not
    assert "have no source: 47.25\n" in critique
    assert "47.25" in paper.unsourced_numbers[0] and len(paper.unsourced_numbers) == 1
    # results.tex still defines every macro: the unshown one compiles and prints its value
    results = (campaign.paper_dir("many") / "results.tex").read_text()
    assert f"\\newcommand{{\\{UNSHOWN}}}{{47.25}}" in results
    assert paper.compiled and paper.pdf_path is not None


def test_a_section_that_refers_to_a_figure_may_cite_the_metrics_it_shows(
    toy_template: Template, tmp_path: Path
) -> None:
    baseline = measured_run(tmp_path / "base", "baseline", 0, [0.50, 0.52])
    runs = [measured_run(tmp_path / "run", "many", 1, [0.70, 0.74])]
    evidence = build_evidence("score", "maximize", baseline, runs)
    figure = Figure(
        label="fig:five",
        path="figures/five.pdf",
        caption=f"{EXTRA[5]} per run",
        source=tmp_path / "five.pdf",
        name="five",
    )
    ctx = PaperContext(
        idea=IDEA,
        template=toy_template,
        evidence=evidence,
        bibliography=Bibliography(),
        baseline=baseline,
        runs=runs,
        figures=[figure],
    )
    assert "resRunOnePolicyFiveAccuracyMean" in ctx.citable("Figure~\\ref{fig:five} shows it.")
    assert "resRunOnePolicyFiveAccuracyMean" not in ctx.citable("No figure here.")
    assert "resRunOnePolicyFiveAccuracyMean" in ctx.citable()  # a draft may refer to any
    assert len(evidence.macros) > 250 and len(ctx.citable()) < 50
    assert 47.25 not in ctx.sources("No figure here.")  # policy7's mean: cited by no section
