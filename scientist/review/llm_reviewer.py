"""The LLM reviewer: one review with reflection rounds, and the area chair's prose.

Prompts live in `scientist/prompts/review/`; the form, guidelines and few-shot examples come
from `reviews/`. Scores are validated by `Review` (the LLM layer repairs malformed JSON).
"""

from __future__ import annotations

import json
import logging
import statistics
from functools import cache
from typing import NamedTuple

from scientist.llm import Message, RoleModel
from scientist.llm.images import Image
from scientist.models import Review
from scientist.prompts import render_prompt
from scientist.review.form import load_examples, load_form, load_guidelines
from scientist.review.meta import TOP_POINTS, AreaChairNotes, ReviewRecord, calibrated_decision
from scientist.review.packet import data_block
from scientist.review.pdf import PdfText
from scientist.review.review_checks import review_problems
from scientist.review.verdict import decision_score, settle

log = logging.getLogger(__name__)


@cache
def reviewer_system_prompt() -> str:
    """Guidelines, the form and the few-shot examples, from `reviews/`."""
    examples = "\n\n".join(
        f"### Example {i}: the paper\n\n{example.paper}\n\n### Example {i}: the review\n\n"
        f"```json\n{example.review.model_dump_json(indent=2)}\n```"
        for i, example in enumerate(load_examples(), start=1)
    )
    return render_prompt(
        "review/reviewer",
        guidelines=load_guidelines(),
        form=load_form().render(),
        examples=examples,
    )


def figures_note(figures: tuple[Image, ...]) -> str:
    """What the prompt says about the attached figures ('' when none are)."""
    if not figures:
        return ""
    names = data_block("figure names", "\n".join(image.name for image in figures))
    return render_prompt("review/figures", count=len(figures), names=names)


def paper_prompt(
    pdf: PdfText,
    *,
    deterministic: bool = False,
    figures: tuple[Image, ...] = (),
    evidence: str = "",
) -> str:
    """The paper's text in a data block; with the `evidence` packet in its own; for a
    deterministic pack, with the note not to ask for seeds; with `figures`, the note that
    they are attached and how they are named."""
    truncated = " The text was cut at its end to fit the prompt." if pdf.truncated else ""
    provenance = (
        "Its text was parsed from the PDF"
        if pdf.pages is None
        else f"It has {pdf.pages} page(s); its text was extracted from the PDF"
    )
    seeding = render_prompt("review/deterministic") if deterministic else ""
    packet = (
        render_prompt("review/evidence", packet=data_block("evidence", evidence))
        if evidence
        else ""
    )
    return render_prompt(
        "review/paper",
        provenance=provenance,
        truncated=truncated,
        paper=data_block("paper", pdf.text),
        evidence=packet,
        figures=figures_note(figures),
        seeding=seeding,
    )


def ensemble_temperatures(members: int, low: float = 0.5, high: float = 1.0) -> list[float]:
    """Evenly spread sampling temperatures, so ensemble members disagree for real."""
    if members == 1:
        return [round((low + high) / 2, 3)]
    return [round(low + (high - low) * k / (members - 1), 3) for k in range(members)]


class Reviewer(NamedTuple):
    """How one ensemble member differs from the others: its temperature, or its model and,
    when it repeats an earlier member's model, its sampling seed."""

    temperature: float | None
    model: str | None
    seed: int | None = None


def ensemble_reviewers(model: RoleModel, members: int) -> list[Reviewer]:
    """Members whose requests differ: spread temperatures; or, when a model of the role takes
    no temperature (a reasoning model), the role's models in turn, a member that repeats a
    model asking with its own seed (its round: 1, 2, ...) where the API takes one. Where it
    takes none a repeat would send a byte-identical request, so the ensemble stops at one
    member per model, and the log says so."""
    if model.takes_temperature:
        return [Reviewer(t, None) for t in ensemble_temperatures(members)]
    specs = model.models
    rounds = members if model.takes_seed else 1
    reviewers = [
        Reviewer(None, specs[k % len(specs)], k // len(specs) or None)
        for k in range(min(members, rounds * len(specs)))
    ]
    if len(reviewers) < members:
        _say_shrunk(tuple(specs), members, len(reviewers))
    return reviewers


@cache
def _say_shrunk(specs: tuple[str, ...], asked: int, kept: int) -> None:
    """Logged once per configuration (a bench reviews many papers with one ensemble)."""
    log.warning(
        "review ensemble of %d is %d member(s), one per model: %s take(s) no temperature "
        "and no seed, so another member would send a byte-identical request",
        asked,
        kept,
        ", ".join(specs),
    )


def llm_review(
    model: RoleModel,
    pdf: PdfText,
    *,
    reviewer: Reviewer,
    reflections: int,
    deterministic: bool = False,
    figures: tuple[Image, ...] = (),
    evidence: str = "",
) -> ReviewRecord:
    """One reviewer: a first review, then up to `reflections` rounds revisiting it. The
    paper's `figures` go with its text (only to a model that accepts images), and the
    `evidence` packet when there is one. The score is computed from the form
    (`verdict.decision_score`) after its claim checks are settled (`verdict.settle`).

    A round is sent only while checks find a problem in the review (`review_problems`), and
    it names them; reflection also stops when a round returns the review unchanged.
    """
    temperature, pinned, seed = reviewer
    paper = paper_prompt(pdf, deterministic=deterministic, figures=figures, evidence=evidence)
    messages = [  # the paper ends the prefix every reflection round (and reviewer) repeats
        Message(role="system", content=reviewer_system_prompt()),
        Message(role="user", content=paper, images=figures, cache_prefix=reflections > 0),
    ]
    completion = model.complete(
        messages, schema=Review, temperature=temperature, model=pinned, seed=seed
    )
    model.reward(completion.call_id, True)
    review: Review = completion.parsed
    models = [completion.model]
    rounds = 0
    for round_number in range(1, reflections + 1):
        problems = review_problems(review, has_evidence=bool(evidence))
        if not problems:
            break
        listed = "\n".join(f"- {problem}" for problem in problems)
        messages += [
            Message(role="assistant", content=review.model_dump_json(indent=2)),
            Message(
                role="user",
                content=render_prompt(
                    "review/reflection", round=round_number, rounds=reflections, problems=listed
                ),
            ),
        ]
        completion = model.complete(
            messages, schema=Review, temperature=temperature, model=pinned, seed=seed
        )
        model.reward(completion.call_id, True)
        models.append(completion.model)
        rounds = round_number
        if completion.parsed == review:
            break
        review = completion.parsed
    review = settle(review)
    return ReviewRecord(
        reviewer="+".join(dict.fromkeys(models)),
        score=decision_score(review),
        temperature=temperature,
        seed=seed,
        reflections=rounds,
        review=review,
    )


def _review_block(k: int, record: ReviewRecord) -> str:
    review = record.review
    body = {
        "overall": review.overall,
        "confidence": review.confidence,
        "summary": review.summary,
        "strengths": review.strengths,
        "weaknesses": review.weaknesses,
    }
    return f"### Review {k} ({record.reviewer})\n\n```json\n{json.dumps(body, indent=2)}\n```"


def area_chair_notes(
    model: RoleModel, records: list[ReviewRecord], *, threshold: float
) -> AreaChairNotes:
    """The meta-review prose, written knowing the computed outcome."""
    scores = [record.score for record in records]
    mean = statistics.fmean(scores)
    std = statistics.stdev(scores) if len(scores) > 1 else 0.0
    prompt = render_prompt(
        "review/area_chair",
        mean=f"{mean:.2f}",
        std=f"{std:.2f}",
        threshold=f"{threshold:g}",
        decision=calibrated_decision(mean, threshold),
        reviews=data_block(
            "reviews", "\n\n".join(_review_block(k, r) for k, r in enumerate(records, start=1))
        ),
        top=TOP_POINTS,
    )
    completion = model.complete(
        [Message(role="user", content=prompt)], schema=AreaChairNotes, temperature=0.2
    )
    model.reward(completion.call_id, True)
    notes: AreaChairNotes = completion.parsed
    return AreaChairNotes(
        summary=notes.summary,
        strengths=notes.strengths[:TOP_POINTS],
        weaknesses=notes.weaknesses[:TOP_POINTS],
    )
