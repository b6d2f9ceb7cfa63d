"""The evidence a paper stands on: effect vs baseline (`scientist.comparison`), seeds,
completeness, whether the pack is deterministic, and what is wrong with its figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from scientist.comparison import Comparison, Goal, compare, gain_claims
from scientist.models import ExperimentRun, NoveltyStatus, Paper
from scientist.review.figures import figure_problems

_STRUCTURE = re.compile(
    r"\\(?:begin|end|section|subsection|subsubsection|paragraph|label|caption|maketitle)\*?"
    r"(?:\{[^}]*\})?"
)
_CITE = re.compile(r"\\cite[a-zA-Z]*\*?(?:\[[^\]]*\])*\{([^}]*)\}")


class Evidence(BaseModel):
    """Everything the rubric reviewer scores, gathered from runs, paper and idea."""

    model_config = ConfigDict(frozen=True)

    metric: str
    goal: Goal
    comparison: Comparison | None
    runs_total: int
    runs_ok: int
    failed_runs: list[str]
    configs: int
    compiled: bool
    compile_errors: list[str]
    pages: int | None
    page_limit: int
    unsourced_numbers: list[str]
    citations: int
    novelty: NoveltyStatus
    figure_problems: list[str] = Field(default_factory=list)
    """A missing, unreadable, blank or unreferenced figure, one sentence each."""
    gain_claims: list[str] = Field(default_factory=list)
    """The sentences of the paper's body that claim a gain, in order."""
    score_mismatches: list[str] = Field(default_factory=list)
    """Where a run's own reported score disagreed with the pack's grader."""

    @property
    def seeds(self) -> int:
        return self.comparison.n if self.comparison else 0

    def has_seeds(self, wanted: int) -> bool:
        """At least `wanted` seeds per side, or a deterministic pack measured exactly (where
        more seeds would repeat the same numbers)."""
        if self.comparison is not None and self.comparison.exact:
            return True
        return self.seeds >= wanted

    @property
    def within_page_limit(self) -> bool:
        return self.pages is not None and self.pages <= self.page_limit


def count_citations(tex_path: Path) -> int:
    """Distinct keys cited in the LaTeX source (0 when the source is missing)."""
    if not tex_path.is_file():
        return 0
    keys = {
        key.strip()
        for group in _CITE.findall(tex_path.read_text(encoding="utf-8", errors="replace"))
        for key in group.split(",")
        if key.strip()
    }
    return len(keys)


def body_text(tex_path: Path) -> str:
    """The paper's body: from `\\begin{document}` to the appendix or the bibliography ('' when
    the source is missing)."""
    if not tex_path.is_file():
        return ""
    text = tex_path.read_text(encoding="utf-8", errors="replace")
    start = text.find("\\begin{document}")
    text = text[start if start >= 0 else 0 :]
    for end in ("\\appendix", "\\bibliography{", "\\end{document}"):
        cut = text.find(end)
        if cut >= 0:
            text = text[:cut]
    return _STRUCTURE.sub("\n\n", text)


def gather_evidence(
    *,
    paper: Paper,
    runs: list[ExperimentRun],
    baseline: ExperimentRun | None,
    metric: str,
    goal: Goal,
    page_limit: int,
    novelty: NoveltyStatus = "unchecked",
    deterministic: bool = False,
    hypothesis: str = "",
) -> Evidence:
    """What the rubric reads off a paper and its runs; the idea's `hypothesis`, stated as
    given, is not a claimed gain."""
    failed = [f"run_{run.index}: {run.result.status}" for run in runs if not run.result.ok]
    configs = {  # the effective configuration a run reports, else the overrides it was given
        json.dumps(run.final_info.config or run.overrides, sort_keys=True, default=str)
        for run in runs
        if run.result.ok and run.final_info is not None
    }
    return Evidence(
        metric=metric,
        goal=goal,
        comparison=compare(runs, baseline, metric, goal, deterministic=deterministic),
        runs_total=len(runs),
        runs_ok=len(runs) - len(failed),
        failed_runs=failed,
        configs=len(configs),
        compiled=paper.compiled,
        compile_errors=paper.errors,
        pages=paper.pages,
        page_limit=page_limit,
        unsourced_numbers=paper.unsourced_numbers,
        citations=count_citations(paper.tex_path),
        novelty=novelty,
        figure_problems=figure_problems(paper.tex_path),
        gain_claims=list(
            dict.fromkeys(
                s for _, s in gain_claims(body_text(paper.tex_path), hypothesis=hypothesis)
            )
        ),
        score_mismatches=[f"run_{run.index}: {m}" for run in runs for m in run.mismatches],
    )
