"""bench-reviewer: our reviewer's decisions against human accept/reject decisions.

Input: a CSV with a header `paper_id,decision` (decision: accept/reject, or 1/0) and the
papers at `<papers>/<paper_id>.pdf`. Every PDF is checked before any review is paid for.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from scientist.config import ReviewConfig
from scientist.errors import ConfigError
from scientist.llm import RoleModel
from scientist.models import Decision
from scientist.review.metrics import DecisionMetrics, decision_metrics
from scientist.review.service import review_pdf

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
    score: float


class BenchReport(BaseModel):
    reviewer: str
    threshold: float
    metrics: DecisionMetrics
    rows: list[BenchRow]


def read_decisions(path: Path) -> list[tuple[str, Decision]]:
    """The CSV's `(paper_id, decision)` rows; any malformed row is a `ConfigError`.

    A leading byte-order mark (as spreadsheet exports write) is ignored.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not {"paper_id", "decision"} <= set(reader.fieldnames or []):
                raise ConfigError(f"{path} needs a header row 'paper_id,decision'")
            rows = []
            for line, row in enumerate(reader, start=2):
                paper_id = (row["paper_id"] or "").strip()
                decision = _DECISIONS.get((row["decision"] or "").strip().lower())
                if not paper_id or decision is None:
                    raise ConfigError(
                        f"{path}:{line}: expected 'paper_id,accept|reject', got {row}"
                    )
                rows.append((paper_id, decision))
    except FileNotFoundError:
        raise ConfigError(f"decisions file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"decisions file {path} is not UTF-8 text: {exc}") from None
    except IsADirectoryError:
        raise ConfigError(f"decisions file {path} is a directory, not a CSV file") from None
    except csv.Error as exc:
        raise ConfigError(f"decisions file {path} is not a valid CSV: {exc}") from None
    if not rows:
        raise ConfigError(f"{path} lists no papers")
    return rows


def bench_reviewer(
    decisions: list[tuple[str, Decision]],
    papers: Path,
    *,
    model: RoleModel | None,
    config: ReviewConfig,
) -> BenchReport:
    """Review every paper and score the decisions (and the ranking by score) against humans."""
    if not papers.is_dir():
        raise ConfigError(f"papers folder {papers} is not a directory")
    missing = [pid for pid, _ in decisions if not (papers / f"{pid}.pdf").is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ConfigError(f"{len(missing)} paper(s) missing from {papers}: {shown}")
    rows = []
    reviewers = []
    for paper_id, human in decisions:
        meta, _ = review_pdf(papers / f"{paper_id}.pdf", model=model, config=config)
        reviewers.append(meta.reviewer)
        rows.append(
            BenchRow(paper_id=paper_id, human=human, ours=meta.decision, score=meta.overall)
        )
    metrics = decision_metrics(
        [row.human == "accept" for row in rows],
        [row.ours == "accept" for row in rows],
        [row.score for row in rows],
    )
    return BenchReport(
        reviewer=",".join(dict.fromkeys(reviewers)),
        threshold=config.accept_threshold,
        metrics=metrics,
        rows=rows,
    )
