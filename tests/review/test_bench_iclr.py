"""bench-reviewer on the ICLR benchmark's layout (a ratings TSV and parsed paper texts), with
stored reviews replayed through a scripted model; every metric checked against scikit-learn."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    roc_auc_score,
)
from typer.testing import CliRunner

from scientist.cli import app
from scientist.errors import ConfigError
from scientist.review.bench import read_decisions, subsample

# paper id -> (human decision in the ratings TSV, stored overall, stored decision)
PAPERS = {
    "aB3-x_1": ("Accept (Oral)", 8, "Accept"),
    "aB3-x_2": ("Accept (Poster)", 6, "Reject"),
    "aB3-x_3": ("Accept (Spotlight)", 5, "Reject"),
    "aB3-x_4": ("Accept (Poster)", 7, "Accept"),
    "aB3-x_5": ("Reject", 6, "Reject"),
    "aB3-x_6": ("Reject", 4, "Reject"),
    "aB3-x_7": ("Reject", 3, "Reject"),
    "aB3-x_8": ("Reject", 7, "Accept"),
    "aB3-x_9": ("Reject", 5, "Reject"),
    "aB3-x10": ("Accept (Poster)", 4, "Reject"),
}
UNKNOWN = "aB3-x11"
METRICS = ("accuracy", "balanced_accuracy", "f1", "auc", "fpr", "fnr")
COUNTS = ("tp", "fp", "fn", "tn")
runner = CliRunner()


def paper_text(paper_id: str) -> str:
    return (
        f"# A STUDY NUMBERED {paper_id.upper()}\n\n**Anonymous authors**\n"
        "Paper under double-blind review\n\nABSTRACT\n\n"
        f"We study problem {paper_id} with a baseline and report results over 3 seeds "
        "(mean ± std).\n\n1 INTRODUCTION\n\n" + "Body text. " * 300 + "\n\nREFERENCES\n"
    )


def stored_review(overall: int, decision: str) -> dict[str, str]:
    """A row as AI Scientist's published review CSVs write it (title case, list literals)."""
    return {
        "Summary": "A summary.",
        "Questions": "['Why this baseline?']",
        "Limitations": "[]",
        "Ethical Concerns": "False",
        "Soundness": "3",
        "Presentation": "2",
        "Contribution": "2",
        "Overall": str(overall),
        "Confidence": "4",
        "Strengths": "['Clear writing', \"The authors' ablation\"]",
        "Weaknesses": "['Small scale']",
        "Originality": "2",
        "Quality": "3",
        "Clarity": "3",
        "Significance": "2",
        "Decision": decision,
    }


@pytest.fixture
def iclr(tmp_path: Path) -> dict[str, Path]:
    """The benchmark's layout: ratings_subset.tsv, iclr_parsed/<id>.txt, stored reviews."""
    ratings = tmp_path / "ratings_subset.tsv"
    with ratings.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["paper_id", *map(str, range(7)), "decision"])
        for k, (paper_id, (human, _, _)) in enumerate(PAPERS.items()):
            scores = ["6.0", "8.0", "5.0"][: 1 + k % 3]
            writer.writerow([paper_id, *scores, *[""] * (7 - len(scores)), human])
        writer.writerow([UNKNOWN, "3.0", *[""] * 6, "Unknown"])
    parsed = tmp_path / "iclr_parsed"
    parsed.mkdir()
    for paper_id in [*PAPERS, UNKNOWN]:
        (parsed / f"{paper_id}.txt").write_text(paper_text(paper_id), encoding="utf-8")
    stored = tmp_path / "llm_reviews.csv"
    with stored.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["paper_id", *stored_review(1, "x")])
        writer.writeheader()
        for paper_id, (_, overall, decision) in reversed(PAPERS.items()):
            writer.writerow({"paper_id": paper_id, **stored_review(overall, decision)})
    return {"data": ratings, "papers": parsed, "replay": stored}


def bench(iclr: dict[str, Path], *extra: str):
    args = ["bench-reviewer", "--data", iclr["data"], "--papers", iclr["papers"], *extra]
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=True)


def expected(truth: list[bool], predicted: list[bool], scores: list[float]) -> dict:
    tn, fp, fn, tp = confusion_matrix(truth, predicted).ravel()
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "accuracy": accuracy_score(truth, predicted),
        "balanced_accuracy": balanced_accuracy_score(truth, predicted),
        "f1": f1_score(truth, predicted),
        "auc": roc_auc_score(truth, scores),
        "fpr": fp / (fp + tn),
        "fnr": fn / (fn + tp),
    }


def test_replayed_reviews_give_the_metrics_scikit_learn_gives(iclr):
    result = bench(iclr, "--replay", iclr["replay"], "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [row["paper_id"] for row in report["rows"]] == list(PAPERS)  # "Unknown" left out
    truth = [human.startswith("Accept") for human, _, _ in PAPERS.values()]
    scores = [float(overall) for _, overall, _ in PAPERS.values()]
    assert [row["score"] for row in report["rows"]] == scores
    by_threshold = expected(truth, [s >= 6 for s in scores], scores)
    own = expected(truth, [d == "Accept" for _, _, d in PAPERS.values()], scores)
    for name in METRICS + COUNTS:
        assert report["metrics"][name] == pytest.approx(by_threshold[name]), name
        assert report["own_metrics"][name] == pytest.approx(own[name]), name
    assert (report["metrics"]["n"], report["metrics"]["positives"]) == (10, 5)
    assert report["baseline_note"] is None and report["skipped"] == []

    table = bench(iclr, "--replay", iclr["replay"]).output
    assert "10 papers (5 accepted by humans)" in table
    for name in METRICS:
        assert name in table
    assert f"{by_threshold['balanced_accuracy']:.3f}" in table
    assert f"{own['fnr']:.3f}" in table
    counts = [str(by_threshold[k]) for k in COUNTS], [str(own[k]) for k in COUNTS]
    rows = [line.split("│")[2:6] for line in table.splitlines() if line.count("│") == 6]
    assert [[cell.strip() for cell in row] for row in rows] == list(counts)
    assert "no-information baseline" not in table


def test_a_seeded_subsample_is_reproducible_and_in_file_order(iclr):
    first = json.loads(bench(iclr, "--replay", iclr["replay"], "--sample", "4", "--json").output)
    again = json.loads(bench(iclr, "--replay", iclr["replay"], "--sample", "4", "--json").output)
    other = json.loads(
        bench(iclr, "--replay", iclr["replay"], "--sample", "4", "--seed", "7", "--json").output
    )
    ids = [row["paper_id"] for row in first["rows"]]
    assert len(ids) == 4 and ids == [row["paper_id"] for row in again["rows"]]
    assert ids == sorted(ids, key=list(PAPERS).index)
    assert ids != [row["paper_id"] for row in other["rows"]]


def test_parsed_texts_are_reviewed_offline_without_a_page_count(iclr):
    result = bench(iclr, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["reviewer"] == "rubric-pdf" and len(report["rows"]) == len(PAPERS)


def test_the_offline_rubric_is_labelled_a_no_information_baseline(iclr):
    measured = "balanced accuracy 0.498, AUC 0.505, and accepts 1 of 500"
    report = json.loads(bench(iclr, "--json").output)
    assert "no-information baseline on external papers" in report["baseline_note"]
    assert measured in report["baseline_note"]
    assert measured in " ".join(bench(iclr).output.split())
    usage = " ".join(runner.invoke(app, ["bench-reviewer", "--help"]).output.split())
    assert "no-information baseline" in usage and "balanced accuracy 0.498" in usage


def test_missing_papers_stop_the_bench_unless_skipped(iclr):
    for paper_id in ("aB3-x_2", "aB3-x_8"):
        (iclr["papers"] / f"{paper_id}.txt").unlink()
    refused = bench(iclr, "--replay", iclr["replay"])
    assert isinstance(refused.exception, ConfigError)
    assert "2 paper(s) missing" in str(refused.exception)
    assert "--skip-missing benches the 8 found" in str(refused.exception)

    result = bench(iclr, "--replay", iclr["replay"], "--skip-missing", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["skipped"] == ["aB3-x_2", "aB3-x_8"]
    kept = {k: v for k, v in PAPERS.items() if k not in report["skipped"]}
    assert [row["paper_id"] for row in report["rows"]] == list(kept)
    truth = [human.startswith("Accept") for human, _, _ in kept.values()]
    scores = [float(overall) for _, overall, _ in kept.values()]
    by_threshold = expected(truth, [s >= 6 for s in scores], scores)
    assert report["metrics"]["balanced_accuracy"] == pytest.approx(
        by_threshold["balanced_accuracy"]
    )
    assert "skipped 2 paper(s)" in bench(iclr, "--replay", iclr["replay"], "--skip-missing").output


def test_skipping_needs_at_least_one_paper(iclr):
    for path in iclr["papers"].iterdir():
        path.unlink()
    result = bench(iclr, "--skip-missing")
    assert isinstance(result.exception, ConfigError)
    assert "none was found" in str(result.exception)


def test_ratings_decisions_map_accepts_and_leave_out_unknown(iclr):
    rows = read_decisions(iclr["data"])
    assert dict(rows)["aB3-x_3"] == "accept" and dict(rows)["aB3-x_5"] == "reject"
    assert UNKNOWN not in dict(rows)
    with pytest.raises(ConfigError, match="the benchmark has 10 papers"):
        subsample(rows, 11, 0)


def test_a_paper_without_a_stored_review_is_named(iclr):
    lines = iclr["replay"].read_text().splitlines()
    iclr["replay"].write_text("\n".join(line for line in lines if "aB3-x_4" not in line))
    result = bench(iclr, "--replay", iclr["replay"])
    assert isinstance(result.exception, ConfigError)
    assert "no stored review for 1 paper(s): aB3-x_4" in str(result.exception)


def test_replay_and_a_model_together_are_refused(iclr):
    result = bench(iclr, "--replay", iclr["replay"], "--llm", "openai:gpt-4o")
    assert isinstance(result.exception, ConfigError)
    assert "--replay" in str(result.exception)
