"""Entry points: review a campaign's paper (resumable, on disk) or a bare PDF.

Strategy: with no model for the `review` role (`model(review)` is None), the rubric reviewer
scores the evidence (the paper's figures checked mechanically among it); otherwise an
ensemble of LLM reviewers reads the PDF, with the paper's figures when the reviewer's model
accepts images, reflects, and an area chair writes the meta-review. Either way the decision
is calibrated on the mean score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from scientist.atomic_files import atomic_write_json
from scientist.campaign import Campaign
from scientist.config import ReviewConfig
from scientist.context import Context
from scientist.errors import LLMFormatError
from scientist.experiments.outcome import best_run
from scientist.llm import RoleModel
from scientist.llm.images import Image
from scientist.models import ExperimentRun, Idea, MetaReview, Paper
from scientist.records.runs import run_diff
from scientist.report import sizes
from scientist.review.evidence import gather_evidence
from scientist.review.figure_pages import figure_pages_for
from scientist.review.figures import figure_images
from scientist.review.llm_reviewer import area_chair_notes, ensemble_reviewers, llm_review
from scientist.review.meta import ReviewRecord, aggregate
from scientist.review.packet import evidence_packet, numbers_source
from scientist.review.pdf import PdfText, read_pdf
from scientist.review.pdf_rubric import RUBRIC_PDF, pdf_signals, review_pdf_signals
from scientist.review.rubric import review_evidence

DEFAULT_PAGE_LIMIT = 8


def _load_record(path: Path, *, rubric: bool) -> ReviewRecord | None:
    """The review saved at `path`, when it is valid and by the same kind of reviewer."""
    try:
        record = ReviewRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValidationError):
        return None
    return record if record.reviewer.startswith("rubric") == rubric else None


def _gather_reviews(
    folder: Path | None, count: int, make: Callable[[int], ReviewRecord], *, rubric: bool = False
) -> list[ReviewRecord]:
    """Reviews 0..count-1: `folder/review_<k>.json` when present, valid and by the same kind
    of reviewer (`rubric` or a model), else made (and written when `folder` is set). A member
    whose output never validates is left out; the ensemble fails only when every member
    does."""
    records: list[ReviewRecord] = []
    failures: list[LLMFormatError] = []
    for k in range(count):
        path = folder / f"review_{k}.json" if folder is not None else None
        record = _load_record(path, rubric=rubric) if path is not None else None
        if record is None:
            try:
                record = make(k)
            except LLMFormatError as exc:
                failures.append(exc)
                continue
            if path is not None:
                atomic_write_json(path, record)
        records.append(record)
    if not records:
        raise failures[0]
    return records


def _idea(campaign: Campaign, idea_id: str) -> Idea | None:
    entry = next((e for e in campaign.archive() if e.id == idea_id), None)
    return entry.idea if entry else None


def review_paper(
    ctx: Context,
    *,
    idea_id: str,
    paper: Paper,
    baseline: ExperimentRun | None,
    runs: list[ExperimentRun],
) -> MetaReview:
    """Review `paper`; writes `reviews/review_<k>.json` and `reviews/meta.json`.

    Reviews already on disk are reused when the configured kind of reviewer wrote them (a
    resumed campaign pays for none twice, and goes on with the configured reviewers); a paper
    with no PDF is reviewed by the rubric, which caps a paper that did not compile at 2.
    """
    campaign, template, config = ctx.campaign, ctx.template, ctx.config.review
    model = ctx.model("review")
    folder = campaign.reviews_dir(idea_id)
    threshold = config.accept_threshold
    pdf_path = paper.pdf_path if paper.pdf_path and paper.pdf_path.is_file() else None
    if model is None or pdf_path is None:
        idea = _idea(campaign, idea_id)
        evidence = gather_evidence(
            paper=paper,
            runs=runs,
            baseline=baseline,
            metric=template.manifest.metric.name,
            goal=template.manifest.metric.goal,
            page_limit=campaign.config.writeup.page_limit,
            novelty=idea.novelty_status if idea else "unchecked",
            deterministic=template.deterministic,
            hypothesis=idea.hypothesis if idea else "",
        )

        def rubric(_: int) -> ReviewRecord:
            scored = review_evidence(evidence, threshold=threshold)
            return ReviewRecord(reviewer="rubric", score=scored.score, review=scored.review)

        records = _gather_reviews(folder, 1, rubric, rubric=True)
        meta = aggregate(records, threshold=threshold)
    else:
        figures = (
            figure_images(paper.tex_path, limit=config.max_figures)
            if ctx.takes_images("review")
            else ()
        )
        packet = paper_packet(ctx, idea_id, baseline, runs)
        meta = _ensemble_meta(
            model, pdf_path, folder, config, template.deterministic, figures, packet
        )
    atomic_write_json(folder / "meta.json", meta)
    return meta


def paper_packet(
    ctx: Context, idea_id: str, control: ExperimentRun | None, runs: list[ExperimentRun]
) -> str:
    """The evidence packet of a campaign paper: the idea's best run against its control."""
    entry = next((e for e in ctx.campaign.archive() if e.id == idea_id), None)
    metric = ctx.template.metric
    best = best_run(ctx, runs)
    return evidence_packet(
        entry=entry,
        run=best,
        control=control,
        metric=metric.name,
        goal=metric.goal,
        sizes=sizes(ctx.config, ctx.template),
        numbers=numbers_source(best),
        diff=run_diff(best) if best is not None else "",
    )


def _ensemble_meta(
    model: RoleModel,
    pdf_path: Path,
    folder: Path,
    config: ReviewConfig,
    deterministic: bool,
    figures: tuple[Image, ...],
    packet: str,
) -> MetaReview:
    """The LLM ensemble's reviews (each shown the paper's `figures` and the evidence
    `packet`) and meta-review, each reused from `folder` when present."""
    pdf = read_pdf(pdf_path)
    reviewers = ensemble_reviewers(model, config.ensemble)
    threshold = config.accept_threshold
    records = _gather_reviews(
        folder,
        len(reviewers),
        lambda k: llm_review(
            model,
            pdf,
            reviewer=reviewers[k],
            reflections=config.reflections,
            deterministic=deterministic,
            figures=figures,
            evidence=packet,
        ),
    )
    cached = _cached_meta(folder / "meta.json", len(records), threshold)
    if cached is not None:
        return cached
    notes = area_chair_notes(model, records, threshold=threshold)
    return aggregate(records, threshold=threshold, notes=notes)


def _cached_meta(path: Path, n_reviews: int, threshold: float) -> MetaReview | None:
    try:
        meta = MetaReview.model_validate_json(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValidationError):
        return None
    return meta if (meta.n_reviews, meta.threshold) == (n_reviews, threshold) else None


def review_pdf(
    pdf_path: Path,
    *,
    model: RoleModel | None,
    config: ReviewConfig,
    page_limit: int = DEFAULT_PAGE_LIMIT,
) -> tuple[MetaReview, list[ReviewRecord]]:
    """Review any PDF (nothing written). Offline, only PDF-level evidence is available; a
    reviewer whose model takes images is shown the pages that hold figures."""
    pdf = read_pdf(pdf_path)
    figures = figure_pages_for(model, pdf_path, limit=config.max_figures)
    return review_text(pdf, model=model, config=config, page_limit=page_limit, figures=figures)


def review_text(
    pdf: PdfText,
    *,
    model: RoleModel | None,
    config: ReviewConfig,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    area_chair: bool = True,
    figures: tuple[Image, ...] = (),
) -> tuple[MetaReview, list[ReviewRecord]]:
    """Review a paper's text (nothing written), each LLM reviewer shown `figures` with it;
    without `area_chair` the meta-review's prose is gathered from the reviews instead of
    written by a model (one call fewer)."""
    threshold = config.accept_threshold
    if model is None:
        scored = review_pdf_signals(pdf_signals(pdf), page_limit=page_limit, threshold=threshold)
        records = [ReviewRecord(reviewer=RUBRIC_PDF, score=scored.score, review=scored.review)]
        return aggregate(records, threshold=threshold), records
    reviewers = ensemble_reviewers(model, config.ensemble)
    records = _gather_reviews(
        None,
        len(reviewers),
        lambda k: llm_review(
            model, pdf, reviewer=reviewers[k], reflections=config.reflections, figures=figures
        ),
    )
    notes = area_chair_notes(model, records, threshold=threshold) if area_chair else None
    return aggregate(records, threshold=threshold, notes=notes), records
