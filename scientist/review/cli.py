"""`scientist review PAPER.pdf` and `scientist bench-reviewer`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from scientist.config import ModelsConfig, ReviewConfig
from scientist.llm import LLM, open_llm
from scientist.models import MetaReview
from scientist.review.bench import BenchReport, bench_reviewer, read_decisions
from scientist.review.meta import ReviewRecord
from scientist.review.pdf_rubric import PDF_ONLY_NOTE
from scientist.review.service import review_pdf

console = Console(soft_wrap=True, highlight=False)

LlmOption = Annotated[
    str,
    typer.Option(
        "--llm",
        help="reviewer model (openai:<m>, anthropic:<m>, scripted:<file>, ...), a comma-"
        "separated list for a pool chosen per call, or 'none' for the rubric",
    ),
]
EnsembleOption = Annotated[int, typer.Option(min=1, max=10, help="reviewers in the ensemble")]
ReflectionsOption = Annotated[int, typer.Option(min=0, max=5, help="reflection rounds each")]
ThresholdOption = Annotated[
    float, typer.Option(min=1, max=10, help="accept iff the mean overall score reaches this")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]


def _open(spec: str) -> LLM:
    """The reviewer router; `.for_role("review")` is None for `none` (the rubric)."""
    models = [model.strip() for model in spec.split(",") if model.strip()] or ["none"]
    return open_llm(ModelsConfig(review=models if len(models) > 1 else models[0]))


def _print_review(meta: MetaReview, records: list[ReviewRecord]) -> None:
    console.print(
        f"[bold]{meta.decision.upper()}[/]  overall {meta.overall:.2f} ± {meta.overall_std:.2f} "
        f"(threshold {meta.threshold:g}, {meta.n_reviews} review(s) by {meta.reviewer})"
    )
    console.print(f"\n{meta.summary}")
    for title, points in (("Strengths", meta.strengths), ("Weaknesses", meta.weaknesses)):
        console.print(f"\n[bold]{title}[/]")
        for point in points:
            console.print(f"  - {point}")
    table = Table("#", "reviewer", "overall", "sound.", "pres.", "contr.", "conf.", "own call")
    for k, record in enumerate(records):
        review = record.review
        table.add_row(
            str(k),
            record.reviewer,
            f"{record.score:.2f}",
            *(str(v) for v in (review.soundness, review.presentation, review.contribution)),
            str(review.confidence),
            review.decision,
        )
    console.print(table)


def review_command(
    paper: Annotated[Path, typer.Argument(help="the paper PDF")],
    llm: LlmOption = "none",
    ensemble: EnsembleOption = 3,
    reflections: ReflectionsOption = 1,
    threshold: ThresholdOption = 6.0,
    as_json: JsonOption = False,
) -> None:
    """Review any PDF with the reviewer ensemble (or the rubric with --llm none)."""
    config = ReviewConfig(ensemble=ensemble, reflections=reflections, accept_threshold=threshold)
    with _open(llm) as router:
        meta, records = review_pdf(paper, model=router.for_role("review"), config=config)
    if as_json:
        data = {"meta": meta.model_dump(), "reviews": [r.model_dump() for r in records]}
        if meta.reviewer == "rubric-pdf":
            data["note"] = PDF_ONLY_NOTE
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_review(meta, records)


def _print_bench(report: BenchReport) -> None:
    m = report.metrics
    console.print(
        f"{m.n} papers ({m.positives} accepted by humans); reviewer {report.reviewer}, "
        f"threshold {report.threshold:g}"
    )
    table = Table("metric", "value")
    for name in ("accuracy", "balanced_accuracy", "f1", "auc", "fpr", "fnr"):
        value = getattr(m, name)
        table.add_row(name, "n/a" if value is None else f"{value:.3f}")
    console.print(table)


def bench_reviewer_command(
    data: Annotated[Path, typer.Option(help="CSV with header paper_id,decision")],
    papers: Annotated[Path, typer.Option(help="folder with <paper_id>.pdf")],
    llm: LlmOption = "none",
    ensemble: EnsembleOption = 3,
    reflections: ReflectionsOption = 1,
    threshold: ThresholdOption = 6.0,
    as_json: JsonOption = False,
) -> None:
    """Score our reviewer against human accept/reject decisions."""
    config = ReviewConfig(ensemble=ensemble, reflections=reflections, accept_threshold=threshold)
    decisions = read_decisions(data)
    with _open(llm) as router:
        report = bench_reviewer(decisions, papers, model=router.for_role("review"), config=config)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print_bench(report)


def register(app: typer.Typer) -> None:
    app.command("review")(review_command)
    app.command("bench-reviewer")(bench_reviewer_command)
