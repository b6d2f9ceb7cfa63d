"""`scientist review PAPER.pdf` and `scientist bench-reviewer`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scientist.config import ModelsConfig, ReviewConfig, is_offline
from scientist.errors import ConfigError
from scientist.llm import LLM, open_llm
from scientist.models import MetaReview
from scientist.review.bench import (
    BenchReport,
    bench_reviewer,
    find_papers,
    read_decisions,
    subsample,
)
from scientist.review.meta import ReviewRecord
from scientist.review.pdf import read_paper
from scientist.review.pdf_rubric import PDF_ONLY_NOTE, RUBRIC_PDF
from scientist.review.replay import read_stored_reviews, replay_script
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
    console.print(f"\n{escape(meta.summary)}")
    for title, points in (("Strengths", meta.strengths), ("Weaknesses", meta.weaknesses)):
        if points:  # a heading only over points
            console.print(f"\n[bold]{title}[/]")
        for point in points:
            console.print(f"  - {escape(point)}")
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
        if meta.reviewer == RUBRIC_PDF:
            data["note"] = PDF_ONLY_NOTE
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_review(meta, records)


def _print_bench(report: BenchReport, papers: Path) -> None:
    m = report.metrics
    if report.skipped:
        console.print(f"skipped {len(report.skipped)} paper(s) with no file in {papers}")
    console.print(
        f"{m.n} papers ({m.positives} accepted by humans); reviewer {report.reviewer}, "
        f"threshold {report.threshold:g}"
    )
    if report.baseline_note:
        console.print(f"[bold]Note:[/] {report.baseline_note}.")
    rules = (f"overall >= {report.threshold:g}", "reviewers' decision")
    table = Table("metric", *rules)
    for name in ("accuracy", "balanced_accuracy", "f1", "auc", "fpr", "fnr"):
        values = (getattr(m, name), getattr(report.own_metrics, name))
        table.add_row(name, *("n/a" if v is None else f"{v:.3f}" for v in values))
    console.print(table)
    confusion = Table("rule", "TP", "FP", "FN", "TN", title="accept (positive) vs humans")
    for rule, counts in zip(rules, (m, report.own_metrics), strict=True):
        confusion.add_row(rule, *(str(getattr(counts, k)) for k in ("tp", "fp", "fn", "tn")))
    console.print(confusion)


def _replay_model(stored: Path, papers: dict[str, Path], folder: Path) -> str:
    """A `scripted:` model answering each paper with its stored review."""
    texts = {paper_id: read_paper(path) for paper_id, path in papers.items()}
    script = folder / f"{stored.stem}.json"
    script.write_text(json.dumps(replay_script(read_stored_reviews(stored), texts)), "utf-8")
    return f"scripted:{script}"


def bench_reviewer_command(
    data: Annotated[
        Path,
        typer.Option(help="CSV with header paper_id,decision, or an ICLR-layout ratings .tsv"),
    ],
    papers: Annotated[
        Path, typer.Option(help="folder with <paper_id>.pdf, or parsed <paper_id>.txt/.md")
    ],
    llm: LlmOption = "none",
    ensemble: EnsembleOption = 3,
    reflections: ReflectionsOption = 1,
    threshold: ThresholdOption = 6.0,
    sample: Annotated[
        int | None, typer.Option(min=1, help="review only this many papers, drawn at random")
    ] = None,
    seed: Annotated[int, typer.Option(help="the seed of --sample's draw")] = 0,
    replay: Annotated[
        Path | None,
        typer.Option(
            help="stored reviews (CSV, one row per paper) replayed as the reviewer instead of "
            "--llm; one review per paper, no reflection"
        ),
    ] = None,
    skip_missing: Annotated[
        bool,
        typer.Option(
            "--skip-missing", help="bench the papers that have a file; count the others skipped"
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Score our reviewer against human accept/reject decisions: balanced accuracy, AUC and
    the confusion counts for any reviewer.

    With --llm none (the default) the offline rubric reviews, a no-information baseline on
    external papers: on the 500 ICLR 2022 papers it scores balanced accuracy 0.498 and AUC
    0.505, accepting 1 of 500. Measure a model with --llm, or check the harness with --replay.
    """
    if replay is not None and not is_offline(llm):
        raise ConfigError("--replay replays stored reviews; leave out --llm")
    decisions = subsample(read_decisions(data), sample, seed)
    found = find_papers(decisions, papers, skip_missing=skip_missing)
    with tempfile.TemporaryDirectory(prefix="scientist-replay-") as scratch:
        if replay is not None:
            llm = _replay_model(replay, found, Path(scratch))
            ensemble, reflections = 1, 0
        config = ReviewConfig(
            ensemble=ensemble, reflections=reflections, accept_threshold=threshold
        )
        with _open(llm) as router:
            model = router.for_role("review")
            report = bench_reviewer(decisions, found, model=model, config=config)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print_bench(report, papers)


def register(app: typer.Typer) -> None:
    app.command("review")(review_command)
    app.command("bench-reviewer")(bench_reviewer_command)
