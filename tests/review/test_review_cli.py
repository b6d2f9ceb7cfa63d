"""`scientist review` and `scientist bench-reviewer` on real PDFs (pdflatex)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scientist.cli import app
from scientist.errors import ConfigError, ScientistError
from scientist.review.form import REVIEWS_ROOT
from tests.review.latex import compile_tex

pytestmark = pytest.mark.latex

WEAK_TEX = r"""\documentclass{article}\begin{document}
A short note. We tried a thing and it seemed to work.
\end{document}"""

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=True)


@pytest.fixture(scope="module")
def weak_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tex = tmp_path_factory.mktemp("weak") / "weak.tex"
    tex.write_text(WEAK_TEX, encoding="utf-8")
    return compile_tex(tex)


def test_review_offline_says_it_only_saw_the_pdf(paper_pdf) -> None:
    result = invoke("review", paper_pdf)
    assert result.exit_code == 0, result.output
    assert "PDF-level evidence only" in result.output
    assert "The paper states 3 seeds." in result.output

    as_json = invoke("review", paper_pdf, "--json")
    data = json.loads(as_json.output)
    assert data["meta"]["reviewer"] == "rubric-pdf"
    assert data["reviews"][0]["review"]["confidence"] == 1
    assert "PDF-level evidence only" in data["note"]


def test_review_offline_ranks_a_real_paper_above_a_note(paper_pdf, weak_pdf) -> None:
    good = json.loads(invoke("review", paper_pdf, "--json").output)["meta"]
    weak = json.loads(invoke("review", weak_pdf, "--json").output)["meta"]
    assert good["overall"] > weak["overall"] + 2


def test_review_with_a_scripted_ensemble(paper_pdf, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    example = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
    script = tmp_path / "script.json"
    notes = {"summary": "Clean but small.", "strengths": ["split"], "weaknesses": ["seeds"]}
    script.write_text(
        json.dumps(
            [
                {"json": {**example, "overall": 7, "decision": "reject"}},
                {"json": {**example, "overall": 6, "decision": "reject"}},
                {"json": notes, "match": "area chair"},
            ]
        )
    )
    args = ("--llm", f"scripted:{script}", "--ensemble", "2", "--reflections", "0")
    result = invoke("review", paper_pdf, *args, "--json")
    assert result.exit_code == 0, result.output
    meta = json.loads(result.output)["meta"]
    assert (meta["overall"], meta["decision"], meta["n_reviews"]) == (6.5, "accept", 2)
    assert meta["summary"] == "Clean but small."


def test_bench_reviewer_against_human_decisions(paper_pdf, weak_pdf, tmp_path) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(paper_pdf, papers / "good_a.pdf")
    shutil.copy(paper_pdf, papers / "good_b.pdf")
    shutil.copy(weak_pdf, papers / "weak.pdf")
    data = tmp_path / "decisions.csv"
    data.write_text("paper_id,decision\ngood_a,accept\nweak,reject\ngood_b,0\n")

    result = invoke(
        "bench-reviewer", "--data", data, "--papers", papers, "--threshold", "5", "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [row["ours"] for row in report["rows"]] == ["accept", "reject", "accept"]
    metrics = report["metrics"]
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert (metrics["fpr"], metrics["fnr"]) == (0.5, 0.0)
    assert metrics["auc"] == pytest.approx(0.75)

    table = invoke("bench-reviewer", "--data", data, "--papers", papers, "--threshold", "5")
    assert "balanced_accuracy" in table.output and "0.750" in table.output


def test_bench_reviewer_rejects_bad_input_before_reviewing(tmp_path) -> None:
    data = tmp_path / "decisions.csv"
    data.write_text("paper_id,decision\nmissing_paper,accept\n")
    result = invoke("bench-reviewer", "--data", data, "--papers", tmp_path)
    assert isinstance(result.exception, ConfigError)
    assert "missing_paper" in str(result.exception)

    data.write_text("paper_id,decision\np1,maybe\n")
    result = invoke("bench-reviewer", "--data", data, "--papers", tmp_path)
    assert isinstance(result.exception, ConfigError)
    assert ":2:" in str(result.exception)


def test_unreadable_pdf_is_a_user_error(tmp_path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_text("this is not a PDF")
    result = invoke("review", broken)
    assert isinstance(result.exception, ScientistError)
    assert "not a readable PDF" in str(result.exception)


def test_non_pdf_is_one_line_without_pypdf_warnings(tmp_path, caplog) -> None:
    text = tmp_path / "notes.pdf"
    text.write_text("hello")
    for path, expected in ((text, "no %PDF- header"), (tmp_path, "is a directory")):
        result = invoke("review", path)
        assert isinstance(result.exception, ScientistError)
        assert expected in str(result.exception)
    assert not [record for record in caplog.records if record.name.startswith("pypdf")]


def test_bench_reviewer_rejects_a_folder_as_csv_or_a_file_as_papers(tmp_path) -> None:
    result = invoke("bench-reviewer", "--data", tmp_path, "--papers", tmp_path)
    assert isinstance(result.exception, ConfigError)
    assert "is a directory" in str(result.exception)

    data = tmp_path / "decisions.csv"
    data.write_text("paper_id,decision\np1,accept\n")
    result = invoke("bench-reviewer", "--data", data, "--papers", data)
    assert isinstance(result.exception, ConfigError)
    assert "is not a directory" in str(result.exception)


def test_review_with_a_pool_of_models(paper_pdf, tmp_path) -> None:
    example = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
    notes = {"summary": "s", "strengths": [], "weaknesses": []}
    scripts = []
    for name, overall in (("a", 4), ("b", 8)):
        script = tmp_path / f"{name}.json"
        entries = [{"json": {**example, "overall": overall}, "match": "Review the paper"}] * 2
        script.write_text(json.dumps([*entries, {"json": notes, "match": "area chair"}]))
        scripts.append(f"scripted:{script}")
    args = ("--llm", ",".join(scripts), "--ensemble", "2", "--reflections", "0", "--json")
    result = invoke("review", paper_pdf, *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_model = {str(tmp_path / "a.json"): 4, str(tmp_path / "b.json"): 8}
    for record in data["reviews"]:
        assert record["score"] == by_model[record["reviewer"].removeprefix("scripted:")]
    scores = [record["score"] for record in data["reviews"]]
    assert data["meta"]["overall"] == pytest.approx(sum(scores) / 2)


def test_a_heading_with_nothing_under_it_is_not_printed(paper_pdf, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    example = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
    notes = {"summary": "Sound [and] small.", "strengths": ["the [ray] split"], "weaknesses": []}
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                {"json": {**example, "overall": 7, "decision": "accept"}},
                {"json": {**example, "overall": 7, "decision": "accept"}},
                {"json": notes, "match": "area chair"},
            ]
        )
    )
    args = ("--llm", f"scripted:{script}", "--ensemble", "2", "--reflections", "0")
    result = invoke("review", paper_pdf, *args)
    assert result.exit_code == 0, result.output
    assert "Strengths" in result.output and "Weaknesses" not in result.output
    assert "the [ray] split" in result.output and "Sound [and] small." in result.output
