"""The reviewers and the paper's figures: the LLM reviewer sees them when its model accepts
images, and the rubric flags a missing, blank or unreferenced figure."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from scientist.config import ModelsConfig, ReviewConfig
from scientist.llm import RetryPolicy, open_llm
from scientist.models import Paper
from scientist.review import review_paper
from scientist.review.evidence import gather_evidence
from scientist.review.rubric import review_evidence
from tests.conftest import stage_context
from tests.review.conftest import METRIC
from tests.review.latex import compile_tex
from tests.review.test_llm_review import NOTES, review_json

REVIEWER = "openai:reviewer-1"
FAST_RETRY = RetryPolicy(max_retries=1, base_delay_s=0.001, max_delay_s=0.01)


def drawn(path: Path) -> Path:
    """A plot-like PNG: axes and a rising line."""
    picture = Image.new("RGB", (320, 240), "white")
    pen = ImageDraw.Draw(picture)
    pen.line([(30, 210), (300, 210)], fill="black", width=2)
    pen.line([(30, 20), (30, 210)], fill="black", width=2)
    pen.line([(30, 200), (120, 150), (210, 90), (300, 40)], fill="blue", width=3)
    picture.save(path)
    return path


def blank(path: Path) -> Path:
    Image.new("RGB", (320, 240), "white").save(path)
    return path


def figure_block(name: str, label: str) -> str:
    return (
        "\\begin{figure}[h]\\centering\n"
        f"\\includegraphics[width=0.4\\linewidth]{{figures/{name}}}\n"
        f"\\caption{{The {name} figure.}}\\label{{{label}}}\n\\end{{figure}}\n"
    )


def figure_paper(folder: Path, figures: dict[str, str], text: str) -> Paper:
    """A paper compiled by the real pdflatex from `figures` (file name -> label) and `text`."""
    tex = folder / "paper.tex"
    body = "".join(figure_block(name, label) for name, label in figures.items())
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{graphicx}\n\\begin{document}\n"
        f"\\section{{Results}}\n{text}\n{body}\\end{{document}}\n",
        encoding="utf-8",
    )
    pdf = compile_tex(tex)
    return Paper(idea_id="idea_a", tex_path=tex, pdf_path=pdf, compiled=True, pages=1)


@pytest.fixture
def figures_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "paper" / "figures"
    folder.mkdir(parents=True)
    drawn(folder / "good.png")
    drawn(folder / "lonely.png")
    blank(folder / "empty.png")
    return folder


def rubric(paper: Paper, make_run, baseline):
    runs = [make_run(1, [0.80, 0.82, 0.81]), make_run(2, [0.76, 0.77, 0.75], overrides={"a": 1})]
    evidence = gather_evidence(
        paper=paper, runs=runs, baseline=baseline, metric=METRIC, goal="maximize", page_limit=8
    )
    return review_evidence(evidence, threshold=6)


@pytest.mark.latex
def test_the_rubric_flags_a_blank_and_an_unreferenced_figure_and_not_a_good_one(
    figures_dir: Path, tmp_path: Path, make_run, baseline
) -> None:
    text = "Figure~\\ref{fig:good} and Figure~\\ref{fig:empty} show the curve."
    flawed = figure_paper(
        figures_dir.parent,
        {"good.png": "fig:good", "empty.png": "fig:empty", "lonely.png": "fig:lonely"},
        text,
    )
    scored = rubric(flawed, make_run, baseline)
    weaknesses = scored.review.weaknesses
    assert any("figures/empty.png is blank" in point for point in weaknesses)
    assert any(
        "figures/lonely.png (fig:lonely) is never referenced" in point for point in weaknesses
    )
    assert not any("good.png" in point for point in weaknesses)

    clean_dir = tmp_path / "clean"
    shutil.copytree(figures_dir, clean_dir / "figures")
    clean = rubric(
        figure_paper(clean_dir, {"good.png": "fig:good"}, "Figure~\\ref{fig:good} shows it."),
        make_run,
        baseline,
    )
    assert not any("figure" in point.lower() for point in clean.review.weaknesses)
    assert scored.score < clean.score
    assert scored.review.presentation < clean.review.presentation


def test_a_figure_whose_file_is_gone_is_flagged(figures_dir: Path, make_run, baseline) -> None:
    tex = figures_dir.parent / "paper.tex"
    tex.write_text(
        "\\section{Results}\nFigure~\\ref{fig:gone}.\n" + figure_block("gone.pdf", "fig:gone")
    )
    paper = Paper(idea_id="idea_a", tex_path=tex, compiled=True, pages=1)
    weaknesses = rubric(paper, make_run, baseline).review.weaknesses
    assert "Figure figures/gone.pdf is included, but its file is missing." in weaknesses


def llm_review_requests(
    replay_server, monkeypatch, campaign, template, paper: Paper, *, vision: bool
) -> list[dict]:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load(
        [
            # soundness 2 under overall 6: checks send the review to reflection
            {"json": review_json(6, "accept", soundness=2), "match": "Review the paper below"},
            {"json": review_json(6, "accept"), "match": "Reflection round 1 of 1"},
            {"json": NOTES, "match": "area chair"},
        ]
    )
    capabilities = {REVIEWER: {"vision": True}} if vision else {}
    models = ModelsConfig(
        review=REVIEWER, base_url=f"{replay_server.url}/v1", capabilities=capabilities
    )
    config = ReviewConfig(ensemble=1, reflections=1, max_figures=2)
    with open_llm(models, retry=FAST_RETRY, seed=0) as llm:
        ctx = stage_context(campaign, template, llm=llm, review=config)
        review_paper(ctx, idea_id="idea_a", paper=paper, baseline=None, runs=[])
    return [request["body"] for request in replay_server.requests]


def image_parts(body: dict) -> list[dict]:
    return [
        part
        for message in body["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part["type"] == "image_url"
    ]


def first_prompt(body: dict) -> str:
    content = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return content if isinstance(content, str) else content[0]["text"]


THREE_FIGURES = {"good.png": "fig:good", "empty.png": "fig:empty", "lonely.png": "fig:lonely"}


@pytest.mark.latex
def test_a_reviewer_that_sees_images_gets_the_figures_beside_the_text(
    replay_server, monkeypatch, campaign, template, figures_dir: Path
) -> None:
    paper = figure_paper(figures_dir.parent, THREE_FIGURES, "Figure~\\ref{fig:good}.")
    review, reflection, _ = llm_review_requests(
        replay_server, monkeypatch, campaign, template, paper, vision=True
    )
    parts = image_parts(review)
    assert len(parts) == 2  # review.max_figures
    assert all(p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts)
    assert "attached as 2 image(s)" in first_prompt(review)
    names = '<data name="figure names">\nfigures/good.png\nfigures/empty.png\n</data>'
    assert names in first_prompt(review)  # file names are data
    assert len(image_parts(reflection)) == 2  # the conversation keeps them


@pytest.mark.latex
def test_a_blind_reviewer_gets_no_figures_and_the_log_says_why(
    replay_server, monkeypatch, campaign, template, figures_dir: Path, caplog
) -> None:
    paper = figure_paper(figures_dir.parent, THREE_FIGURES, "Figure~\\ref{fig:good}.")
    with caplog.at_level(logging.WARNING, logger="scientist.context"):
        bodies = llm_review_requests(
            replay_server, monkeypatch, campaign, template, paper, vision=False
        )
    assert len(bodies) == 3 and not any(image_parts(body) for body in bodies)
    assert "attached" not in first_prompt(bodies[0])
    [said] = [r.message for r in caplog.records if "takes no images" in r.message]
    assert said.startswith(f"review: {REVIEWER} takes no images; its requests carry no figures")
