"""The rubric reviewer for a bare PDF: only what the text shows (no runs, no results files).

Weaker evidence than `rubric.review_evidence`, so the review says so and its confidence is 1.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from scientist.models import Review
from scientist.review.pdf import PdfText
from scientist.review.rubric import RubricReview

RUBRIC_PDF = "rubric-pdf"
"""The reviewer name of the rubric that scores an external PDF."""
PDF_ONLY_NOTE = (
    "Reviewed from PDF-level evidence only (text, pages, captions, references): "
    "no runs or results files were available, so effect sizes could not be checked."
)
_SEEDS = re.compile(r"\b(\d+|three|five|ten)\s+(?:random\s+)?seeds\b", re.IGNORECASE)
_WORDS = {"three": 3, "five": 5, "ten": 10}


class PdfSignals(BaseModel):
    model_config = ConfigDict(frozen=True)

    pages: int | None = Field(description="None for a parsed text: not judged on length")
    chars: int
    figures: int
    tables: int
    references: bool
    spread: bool
    seeds: int
    baseline: bool


def pdf_signals(pdf: PdfText) -> PdfSignals:
    text = pdf.text
    seeds = [int(_WORDS.get(m.lower(), m)) for m in _SEEDS.findall(text)]
    return PdfSignals(
        pages=pdf.pages,
        chars=len(text),
        figures=len(set(re.findall(r"\bFig(?:ure|\.)\s*(\d+)\s*[:.]", text))),
        tables=len(set(re.findall(r"\bTable\s*(\d+)\s*[:.]", text))),
        references=bool(re.search(r"^\s*(References|Bibliography)\s*$", text, re.MULTILINE)),
        spread=bool(re.search(r"±|\\pm|\bstd\b|standard deviation|confidence interval", text)),
        seeds=max(seeds, default=0),
        baseline=bool(re.search(r"\bbaselines?\b", text, re.IGNORECASE)),
    )


def review_pdf_signals(signals: PdfSignals, *, page_limit: int, threshold: float) -> RubricReview:
    """Score the form from what the PDF text shows; at most 7 points of 10."""
    checks = [
        (
            signals.chars >= 2000,
            1.0,
            f"The paper has {signals.chars} characters of text.",
            "The paper has little extractable text.",
        ),
        (
            signals.baseline,
            0.75,
            "The paper compares against a baseline.",
            "The paper mentions no baseline.",
        ),
        (
            signals.spread,
            1.0,
            "The paper reports a spread (±, std or CI).",
            "The paper reports no spread over seeds.",
        ),
        (
            signals.seeds >= 3,
            1.0,
            f"The paper states {signals.seeds} seeds.",
            "The paper does not state 3 or more seeds.",
        ),
        (
            signals.figures > 0,
            0.5,
            f"The paper has {signals.figures} captioned figure(s).",
            "The paper has no figures.",
        ),
        (
            signals.tables > 0,
            0.5,
            f"The paper has {signals.tables} captioned table(s).",
            "The paper has no tables.",
        ),
        (
            signals.references,
            0.75,
            "The paper has a references section.",
            "The paper has no references section.",
        ),
    ]
    fits = signals.pages is not None and signals.pages <= page_limit
    if signals.pages is not None:
        checks.append(
            (
                fits,
                0.5,
                f"The paper fits the {page_limit}-page limit ({signals.pages} pages).",
                f"The paper has {signals.pages} pages, over the {page_limit}-page limit.",
            )
        )
    score = 1.0 + sum(points for met, points, _, _ in checks if met)
    strengths = [good for met, _, good, _ in checks if met]
    weaknesses = [bad for met, _, _, bad in checks if not met]
    rigour = 1 + sum([signals.baseline, signals.spread, signals.seeds >= 3])
    form = 1 + sum([signals.figures > 0 or signals.tables > 0, signals.references])
    length = "paper (parsed text)" if signals.pages is None else f"{signals.pages}-page paper"
    review = Review(
        summary=(
            f"A {length} with {signals.figures} captioned figure(s) and "
            f"{signals.tables} table(s). {PDF_ONLY_NOTE}"
        ),
        strengths=strengths,
        weaknesses=weaknesses,
        limitations=[PDF_ONLY_NOTE],
        originality=2,
        quality=rigour,
        clarity=form,
        significance=2,
        soundness=rigour,
        presentation=min(4, form + fits),
        contribution=2,
        overall=int(score + 0.5),
        confidence=1,
        decision="accept" if score >= threshold else "reject",
    )
    return RubricReview(review=review, score=score)
