"""Stored reviews replayed as a scripted reviewer, so the bench can be checked against
published figures without a model.

A stored-reviews CSV has a `paper_id` column and one column per `Review` field, named as the
field (`ethical_concerns`) or in title case as AI Scientist's published review files name
them (`Ethical Concerns`); list fields are JSON or Python list literals, and a row with no
`overall` is a paper that was not reviewed. The replay answers each paper's review request,
recognised by the opening of its text, with that paper's stored review.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scientist.errors import ConfigError
from scientist.models import Review
from scientist.review.pdf import PdfText

OPENING_CHARS = 300


def _column(row: dict[str, str], field: str) -> str:
    for name in (field, field.replace("_", " ").title()):
        if name in row:
            return (row[name] or "").strip()
    return ""


def _value(field: str, raw: str) -> Any:
    annotation = Review.model_fields[field].annotation
    if annotation == list[str]:
        if not raw:
            return []
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return ast.literal_eval(raw)
    if annotation is int:
        return round(float(raw))
    if annotation is bool:
        return raw.lower() == "true"
    return raw.lower() if field == "decision" else raw


def read_stored_reviews(path: Path) -> dict[str, Review]:
    """Each reviewed paper's stored review (the first row of a paper id wins)."""
    reviews: dict[str, Review] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if "paper_id" not in (reader.fieldnames or []):
                raise ConfigError(f"stored reviews {path} need a paper_id column")
            for line, row in enumerate(reader, start=2):
                paper_id = (row["paper_id"] or "").strip()
                if paper_id in reviews or _column(row, "overall") in ("", "nan"):
                    continue
                try:
                    values = {
                        f: _value(f, _column(row, f))
                        for f in Review.model_fields
                        if f != "claims"  # published reviews check no claims
                    }
                    reviews[paper_id] = Review.model_validate(values)
                except (ValidationError, ValueError, SyntaxError) as exc:
                    raise ConfigError(f"{path}:{line}: not a review: {exc}") from None
    except FileNotFoundError:
        raise ConfigError(f"stored reviews {path} do not exist") from None
    except (UnicodeDecodeError, IsADirectoryError, csv.Error) as exc:
        raise ConfigError(f"stored reviews {path} are not a readable CSV: {exc}") from None
    return reviews


def replay_script(reviews: dict[str, Review], papers: dict[str, PdfText]) -> list[dict]:
    """Scripted-model entries answering each paper's review with its stored one."""
    missing = sorted(set(papers) - set(reviews))
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ConfigError(f"no stored review for {len(missing)} paper(s): {shown}")
    openings: dict[str, str] = {}
    for paper_id, paper in papers.items():
        opening = paper.text[:OPENING_CHARS]
        if opening in openings:
            raise ConfigError(
                f"papers {openings[opening]} and {paper_id} open with the same text; "
                "a replay cannot tell them apart"
            )
        openings[opening] = paper_id
    return [
        {"match": opening, "json": reviews[paper_id].model_dump()}
        for opening, paper_id in openings.items()
    ]
