"""bench-reviewer: our reviewer's decisions against human accept/reject decisions.

Decisions come from a CSV with a header `paper_id,decision` (accept/reject, or 1/0), or from
a ratings TSV in the layout of AI Scientist's ICLR 2022 benchmark (`paper_id`, one column per
human reviewer's score, `decision` as "Accept (Poster)", "Reject", ...; "Unknown" rows are
left out). Each paper is `<papers>/<paper_id>.pdf`, or a text parsed from it (`.txt`, `.md`,
`.mmd`). Every paper is found before any review is paid for; a missing one stops the bench
unless missing papers are skipped (and counted). Two decision rules are scored: the
calibrated one (the ensemble's mean overall score reaches the threshold) and the reviewers'
own call (the majority of their `decision` fields).

The offline reviewer of an external paper (`rubric-pdf`, no model) sees only PDF-level signals;
on the benchmark's 500 ICLR 2022 papers it is a no-information baseline (`RUBRIC_BASELINE`).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, computed_field

from scientist.config import ReviewConfig
from scientist.errors import ConfigError
from scientist.llm import RoleModel
from scientist.models import Decision
from scientist.review.meta import ReviewRecord
from scientist.review.metrics import DecisionMetrics, decision_metrics
from scientist.review.pdf import TEXT_SUFFIXES, read_paper
from scientist.review.pdf_rubric import RUBRIC_PDF
from scientist.review.service import review_text

PAPER_SUFFIXES = (".pdf", *TEXT_SUFFIXES)
UNKNOWN = "unknown"
RUBRIC_BASELINE = (
    "the offline rubric (--llm none) is a no-information baseline on external papers: on the "
    "500 ICLR 2022 papers it scores balanced accuracy 0.498, AUC 0.505, and accepts 1 of 500"
)

_DECISIONS: dict[str, Decision] = {
    "accept": "accept",
    "1": "accept",
    "reject": "reject",
    "0": "reject",
}


class BenchRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    paper_id: str
    human: Decision
    ours: Decision
    own: Decision
    score: float


class BenchReport(BaseModel):
    reviewer: str
    threshold: float
    metrics: DecisionMetrics
    own_metrics: DecisionMetrics
    rows: list[BenchRow]
    skipped: list[str] = Field(
        default_factory=list, description="papers left out because their file is missing"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def baseline_note(self) -> str | None:
        """What the offline rubric's figures mean, when it was the reviewer."""
        return RUBRIC_BASELINE if self.reviewer == RUBRIC_PDF else None


def read_decisions(path: Path) -> list[tuple[str, Decision]]:
    """The `(paper_id, decision)` rows of a decisions CSV, or of a ratings `.tsv`; a leading
    byte-order mark (as spreadsheets write) is ignored."""
    rows = list(_read_rows(path))
    if not rows:
        raise ConfigError(f"{path} lists no papers")
    return rows


def _read_rows(path: Path) -> Iterator[tuple[str, Decision]]:
    ratings = path.suffix.lower() == ".tsv"
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if ratings else ",")
            if not {"paper_id", "decision"} <= set(reader.fieldnames or []):
                layout = (
                    "a tab-separated header with paper_id and decision"
                    if ratings
                    else "a header row 'paper_id,decision'"
                )
                raise ConfigError(f"{path} needs {layout}")
            for line, row in enumerate(reader, start=2):
                paper_id = (row["paper_id"] or "").strip()
                value = (row["decision"] or "").strip().lower()
                if ratings and value == UNKNOWN:
                    continue
                decision = _decision(value, ratings)
                if not paper_id or decision is None:
                    expected = "Accept (...)|Reject|Unknown" if ratings else "accept|reject"
                    raise ConfigError(
                        f"{path}:{line}: expected a paper_id and {expected}, got {dict(row)}"
                    )
                yield paper_id, decision
    except FileNotFoundError:
        raise ConfigError(f"decisions file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"decisions file {path} is not UTF-8 text: {exc}") from None
    except IsADirectoryError:
        raise ConfigError(f"decisions file {path} is a directory, not a file") from None
    except csv.Error as exc:
        raise ConfigError(f"decisions file {path} is not a valid CSV/TSV: {exc}") from None


def _decision(value: str, ratings: bool) -> Decision | None:
    """A lower-case human decision; in a ratings TSV any 'accept (...)' accepts."""
    if ratings and value.startswith("accept"):
        return "accept"
    return _DECISIONS.get(value)


def subsample(
    decisions: list[tuple[str, Decision]], size: int | None, seed: int
) -> list[tuple[str, Decision]]:
    """`size` rows drawn at random with `seed`, in file order (all rows when `size` is None)."""
    if size is None:
        return decisions
    if not 1 <= size <= len(decisions):
        raise ConfigError(f"--sample {size}: the benchmark has {len(decisions)} papers")
    chosen = set(random.Random(seed).sample(range(len(decisions)), size))
    return [row for index, row in enumerate(decisions) if index in chosen]


def find_papers(
    decisions: list[tuple[str, Decision]], papers: Path, *, skip_missing: bool = False
) -> dict[str, Path]:
    """Each paper's file (a PDF first, then a parsed text). A missing one is an error naming
    them all, unless `skip_missing`: then only the papers found are returned (at least one)."""
    if not papers.is_dir():
        raise ConfigError(f"papers folder {papers} is not a directory")
    found: dict[str, Path] = {}
    missing = []
    for paper_id, _ in decisions:
        candidates = (papers / f"{paper_id}{suffix}" for suffix in PAPER_SUFFIXES)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing.append(paper_id)
        else:
            found[paper_id] = path
    if missing and not (skip_missing and found):
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        skip = f"--skip-missing benches the {len(found)} found" if found else "none was found"
        raise ConfigError(
            f"{len(missing)} paper(s) missing from {papers}: {shown}; {skip}",
            hint=f"each paper is <paper_id> with one of {', '.join(PAPER_SUFFIXES)}",
        )
    return found


def own_call(records: list[ReviewRecord]) -> Decision:
    """The reviewers' own decision: accept on a strict majority of their `decision` fields."""
    accepts = sum(record.review.decision == "accept" for record in records)
    return "accept" if 2 * accepts > len(records) else "reject"


def bench_reviewer(
    decisions: list[tuple[str, Decision]],
    papers: dict[str, Path],
    *,
    model: RoleModel | None,
    config: ReviewConfig,
) -> BenchReport:
    """Review every paper of `decisions` that `papers` has and score both decision rules (and
    the ranking by score); the others are listed as skipped."""
    rows = []
    reviewers = []
    skipped = [paper_id for paper_id, _ in decisions if paper_id not in papers]
    for paper_id, human in decisions:
        if paper_id not in papers:
            continue
        meta, records = review_text(
            read_paper(papers[paper_id]), model=model, config=config, area_chair=False
        )
        reviewers.append(meta.reviewer)
        rows.append(
            BenchRow(
                paper_id=paper_id,
                human=human,
                ours=meta.decision,
                own=own_call(records),
                score=meta.overall,
            )
        )
    truth = [row.human == "accept" for row in rows]
    scores = [row.score for row in rows]
    return BenchReport(
        reviewer=",".join(dict.fromkeys(reviewers)),
        threshold=config.accept_threshold,
        metrics=decision_metrics(truth, [row.ours == "accept" for row in rows], scores),
        own_metrics=decision_metrics(truth, [row.own == "accept" for row in rows], scores),
        rows=rows,
        skipped=skipped,
    )
