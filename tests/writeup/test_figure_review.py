"""The figure review of a model-written paper: the vision model's verdicts reach the
critique round (of the sections they concern) and the paper, and an unreferenced figure is
fixed without any model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import ModelsConfig, WriteupConfig
from scientist.llm import open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.models import ExperimentRun, Paper
from scientist.records.figures import Figure
from scientist.sandbox import Sandbox
from scientist.templates import Template
from scientist.writeup import write_paper
from scientist.writeup.context import SECTIONS
from scientist.writeup.figure_review import UNREFERENCED, FigureReview, FigureVerdict
from tests.conftest import stage_context
from tests.writeup.conftest import IDEA
from tests.writeup.test_claims import paper_context

WRITER = "openai:writer-1"
WRONG_TEXT = "Figure~\\ref{fig:score} shows the training loss falling over epochs."
CAPTION_PROBLEM = "it is a bar chart of the mean score per run, not a loss curve"
TEXT_PROBLEM = "the text says the loss falls over epochs; the bars are final scores"
NEW_CAPTION = "Mean score of the baseline (run 0) and of runs 1 and 2, one bar per run."


def sections_script(results: str) -> list[dict]:
    """Drafts for every section, and the critique of the Results (the one section the figure
    review has findings for); the Results say `results` both times."""
    entries: list[dict] = []
    for key, title, _ in SECTIONS:
        body = results if key == "results" else f"Model-written {key} text."
        entries.append({"json": {"latex": body}, "match": f"Write the **{title}** section"})
    entries.append({"json": {"latex": results}, "match": "draft of the **Results** section"})
    return entries


def write(
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
    campaign: Campaign,
    template: Template,
    runs: tuple[ExperimentRun, list[ExperimentRun]],
    sandbox: Sandbox,
    *,
    idea_id: str,
    vision: bool,
) -> Paper:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    capabilities = {WRITER: {"vision": True}} if vision else {}
    models = ModelsConfig(
        write=WRITER, base_url=f"{replay_server.url}/v1", capabilities=capabilities
    )
    ctx = stage_context(
        campaign, template, sandbox=sandbox, llm=open_llm(models), writeup=WriteupConfig()
    )
    baseline, measured = runs
    return write_paper(ctx, idea_id=idea_id, idea=IDEA, baseline=baseline, runs=measured)


def user_messages(replay_server: ReplayServer) -> list[str | list]:
    """Each request's last user message (a structured answer may add a system one after)."""
    return [
        [m for m in r["body"]["messages"] if m["role"] == "user"][-1]["content"]
        for r in replay_server.requests
    ]


def text_of(content: str | list) -> str:
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


@pytest.mark.latex
def test_a_caption_that_contradicts_its_figure_is_rewritten_and_the_text_revised(
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
    toy_campaign: Campaign,
    toy_template: Template,
    toy_runs: tuple[ExperimentRun, list[ExperimentRun]],
    sandbox: Sandbox,
) -> None:
    verdict = {
        "label": "fig:score",
        "caption_matches": False,
        "caption_problem": CAPTION_PROBLEM,
        "better_caption": NEW_CAPTION,
        "text_matches": False,
        "text_problem": TEXT_PROBLEM,
        "duplicate_of": "",
        "unreadable": "",
    }
    script = sections_script(WRONG_TEXT)
    script.append({"json": {"figures": [verdict]}, "match": "Check the figures of a paper"})
    replay_server.load(script)
    paper = write(
        replay_server,
        monkeypatch,
        toy_campaign,
        toy_template,
        toy_runs,
        sandbox,
        idea_id="caption_contradicted",
        vision=True,
    )
    assert paper.compiled and replay_server.remaining == 0
    [check] = paper.figure_review
    assert check.label == "fig:score" and check.actions == ["caption_rewritten", "text_revised"]
    assert any(CAPTION_PROBLEM in finding for finding in check.findings)
    tex = paper.tex_path.read_text()
    assert f"\\caption{{{NEW_CAPTION}}}" in tex and "drawn by the toy pack" not in tex

    contents = user_messages(replay_server)
    [look] = [c for c in contents if "Check the figures of a paper" in text_of(c)]
    assert [part["type"] for part in look] == ["text", "image_url"]
    assert WRONG_TEXT in look[0]["text"] and "`score.pdf`, label `fig:score`" in look[0]["text"]
    # the vision request comes after every draft and before any critique
    order = [text_of(c) for c in contents]
    looked = contents.index(look)
    assert all("Write the **" in text for text in order[:looked])
    assert all("draft of the **" in text for text in order[looked + 1 :])
    [results_critique] = order[looked + 1 :]  # the only section with a finding
    assert "draft of the **Results** section" in results_critique
    assert TEXT_PROBLEM in results_critique and NEW_CAPTION in results_critique


@pytest.mark.latex
def test_an_unreferenced_figure_gets_a_reference_without_any_model_verdict(
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
    toy_campaign: Campaign,
    toy_template: Template,
    toy_runs: tuple[ExperimentRun, list[ExperimentRun]],
    sandbox: Sandbox,
) -> None:
    replay_server.load(sections_script("The scores are in Table~\\ref{tab:results}."))
    paper = write(
        replay_server,
        monkeypatch,
        toy_campaign,
        toy_template,
        toy_runs,
        sandbox,
        idea_id="unreferenced_figure",
        vision=False,
    )
    assert paper.compiled and replay_server.remaining == 0
    contents = user_messages(replay_server)
    assert len(contents) == len(SECTIONS) + 1 and all(isinstance(c, str) for c in contents)
    results_critique = next(c for c in contents if "draft of the **Results** section" in c)
    assert f"`fig:score` (kept): {UNREFERENCED}" in results_critique
    assert paper.figure_review[0].model_dump(include={"findings", "actions"}) == {
        "findings": [UNREFERENCED],
        "actions": ["reference_added"],
    }
    results = paper.tex_path.read_text().split("\\section{Results}")[1]
    assert "Figure~\\ref{fig:score} shows score, drawn by the toy pack" in results


def figure(name: str, tmp_path: Path) -> Figure:
    return Figure(
        label=f"fig:{name}",
        path=f"figures/{name}.png",
        caption=f"{name} caption.",
        source=tmp_path / f"{name}.png",
        name=name,
    )


def test_a_duplicate_figure_is_dropped_and_its_references_point_to_the_first(
    tmp_path: Path, toy_template: Template
) -> None:
    first, again = figure("accuracy", tmp_path), figure("accuracy_again", tmp_path)
    review = FigureReview(figures=[first, again])
    for label, duplicate_of in (
        ("fig:accuracy", "fig:accuracy_again"),
        ("fig:accuracy_again", "fig:accuracy"),
    ):
        review.judge(
            FigureVerdict(
                label=label, caption_matches=True, text_matches=True, duplicate_of=duplicate_of
            )
        )
    paper = replace(paper_context(tmp_path, toy_template, [0.5], [0.7]), figures=[first, again])
    revised = review.revised(paper)
    assert revised.figures == [first] and revised.supplementary == [again]
    sections = {
        "results": "As Figure~\\ref{fig:accuracy_again} and Figure~\\ref{fig:accuracy} show."
    }
    settled = review.settle(revised, sections)
    assert (
        settled["results"] == "As Figure~\\ref{fig:accuracy} and Figure~\\ref{fig:accuracy} show."
    )
    assert [check.actions for check in review.records()] == [["kept"], ["dropped"]]
