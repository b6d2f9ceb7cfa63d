"""`scientist review PAPER.pdf` shows a vision reviewer the PDF's pages that hold figures
(rasterised, at most `review.max_figures`, 1024 px), and a blind one none: a real PDF from
pdflatex with matplotlib figures, through the real openai client and the replay server."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image
from typer.testing import CliRunner

from scientist.cli import app
from scientist.config import ModelsConfig, ReviewConfig
from scientist.llm import open_llm
from scientist.review.figure_pages import figure_page_numbers
from scientist.review.service import review_pdf
from tests.review.latex import compile_tex
from tests.review.test_llm_review import NOTES, review_json
from tests.review.test_review_figures import image_parts

pytestmark = pytest.mark.latex
runner = CliRunner()


def plot(path: Path, slope: float) -> None:
    figure = Figure(figsize=(4, 3))
    axes = figure.add_subplot()
    axes.plot([0, 1, 2, 3], [0, slope, 2 * slope, 3 * slope])
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy")
    figure.savefig(path)


@pytest.fixture(scope="module")
def figure_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three pages: text only, a PDF figure (vector, from matplotlib), a PNG figure."""
    folder = tmp_path_factory.mktemp("figure_pdf")
    plot(folder / "curve.pdf", 1.0)
    plot(folder / "bars.png", 0.5)
    tex = folder / "paper.tex"
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{graphicx}\n\\begin{document}\n"
        "\\section{Introduction} We merge models and measure exact match.\n\\newpage\n"
        "\\section{Results} Figure~\\ref{fig:curve} shows the learning curve.\n"
        "\\begin{figure}[h]\\centering\\includegraphics[width=0.6\\linewidth]{curve.pdf}\n"
        "\\caption{Learning curve.}\\label{fig:curve}\\end{figure}\n\\newpage\n"
        "\\section{Ablation} Figure~\\ref{fig:bars} shows the ablation.\n"
        "\\begin{figure}[h]\\centering\\includegraphics[width=0.6\\linewidth]{bars.png}\n"
        "\\caption{Ablation.}\\label{fig:bars}\\end{figure}\n\\end{document}\n",
        encoding="utf-8",
    )
    return compile_tex(tex)


def test_the_pages_that_hold_figures_are_found(figure_pdf: Path) -> None:
    assert figure_page_numbers(figure_pdf) == [2, 3]


def review_cli(replay_server, monkeypatch, pdf: Path, model: str):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{replay_server.url}/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    replay_server.load([{"json": review_json(6, "accept")}, {"json": NOTES, "match": "area chair"}])
    args = ["review", str(pdf), "--llm", model, "--ensemble", "1", "--reflections", "0"]
    return runner.invoke(app, [*args, "--json"], catch_exceptions=True)


def test_a_vision_reviewer_is_shown_the_figure_pages(
    replay_server, monkeypatch, figure_pdf: Path
) -> None:
    result = review_cli(replay_server, monkeypatch, figure_pdf, "openai:gpt-4o")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["meta"]["n_reviews"] == 1
    review, chair = (request["body"] for request in replay_server.requests)
    parts = image_parts(review)
    assert len(parts) == 2 and not image_parts(chair)
    for part in parts:
        data = part["image_url"]["url"].removeprefix("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(data))) as page:
            assert max(page.size) == 1024
            assert page.height > page.width  # a whole portrait page, not a cropped figure
    prompt = next(m for m in review["messages"] if m["role"] == "user")["content"][0]["text"]
    assert "attached as 2 image(s)" in prompt
    assert '<data name="figure names">\npage 2\npage 3\n</data>' in prompt  # names are data


def test_a_blind_reviewer_gets_no_pages_and_the_log_says_why(
    replay_server, monkeypatch, figure_pdf: Path, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger="scientist.review.figure_pages"):
        result = review_cli(replay_server, monkeypatch, figure_pdf, "openai:gpt-3.5-turbo")
    assert result.exit_code == 0, result.output
    assert not any(image_parts(request["body"]) for request in replay_server.requests)
    prompt = next(m for m in replay_server.requests[0]["body"]["messages"] if m["role"] == "user")[
        "content"
    ]
    assert "attached" not in prompt
    [said] = [r.getMessage() for r in caplog.records if "takes no images" in r.getMessage()]
    assert said.startswith("review: openai:gpt-3.5-turbo takes no images")


def test_at_most_max_figures_pages_are_sent(replay_server, figure_pdf: Path) -> None:
    replay_server.load([{"json": review_json(6, "accept")}, {"json": NOTES, "match": "area chair"}])
    models = ModelsConfig(review="openai:gpt-4o", base_url=f"{replay_server.url}/v1")
    config = ReviewConfig(ensemble=1, reflections=0, max_figures=1)
    with open_llm(models) as llm:
        review_pdf(figure_pdf, model=llm.for_role("review"), config=config)
    assert len(image_parts(replay_server.requests[0]["body"])) == 1
