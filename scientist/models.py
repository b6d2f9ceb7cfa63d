"""Domain records shared by every part of scientist (pydantic at the boundaries)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scientist.stats import agrees, mean_std

RunStatus = Literal["ok", "error", "timeout", "oom", "disk", "infra"]
IdeaStatus = Literal[
    "proposed",
    "selected",
    "running",
    "done",
    "failed",
    "needs_code_model",
    "no_effect",
    "duplicate",
]
GradeStatus = Literal["graded", "score_mismatch", "self_reported"]
"""Where a run's metrics come from: the pack's grader (and the run's own claim agreed), the
grader while the claim disagreed, or the run itself (a pack without a grader)."""
NoveltyStatus = Literal["novel", "not_novel", "unchecked"]
Decision = Literal["accept", "reject"]
EffectTest = Literal["paired", "welch", "exact", "none"]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- sandbox


MAX_TIMEOUT_S = 30 * 24 * 3600.0
MAX_CPUS = 4096.0
MAX_MEMORY_MB = 64 * 1024 * 1024
MAX_DISK_MB = 1024 * 1024 * 1024
MAX_PIDS = 4_194_304
"""The largest limits a run, a pack or a campaign may ask for (a month, 4096 CPUs, 64 TB of
memory, 1 PB of disk, the kernel's most pids): finite, and small enough for every rlimit and
timer the host sets from them."""


class RunSpec(Record):
    """What to run in a sandbox. Limits are enforced outside the experiment code."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    workspace: Path
    argv: list[str] = Field(min_length=1)
    timeout_s: float = Field(default=600, gt=0, le=MAX_TIMEOUT_S)
    cpus: float = Field(default=1.0, gt=0, le=MAX_CPUS)
    memory_mb: int = Field(default=4096, ge=64, le=MAX_MEMORY_MB)
    disk_mb: int = Field(
        default=4096,
        ge=1,
        le=MAX_DISK_MB,
        description="quota on what the run writes: workspace, outputs, cache",
    )
    pids: int = Field(default=256, ge=8, le=MAX_PIDS)
    gpus: list[int] = Field(default_factory=list, description="device ids pinned to this run")
    env: dict[str, str] = Field(default_factory=dict, description="explicit variables to set")
    env_allowlist: list[str] = Field(default_factory=list, description="host variables to pass")
    network: bool = False
    output_subdir: str = Field(default="out", description="workspace-relative dir copied back")
    output_dir: Path | None = Field(default=None, description="host dir the outputs land in")
    cache_dir: Path | None = Field(
        default=None, description="host dir the run sees as its pack cache ($SCIENTIST_CACHE)"
    )
    cache_shared: bool = Field(
        default=False,
        description="the operator shares `cache_dir` on purpose: bound read-write and live, "
        "outside the disk quota (else the run writes a layer of its own, copied back after)",
    )
    read_only: list[Path] = Field(
        default_factory=list,
        description="host folders the run sees read-only at the same path (a pack's environment)",
    )
    labels: dict[str, str] = Field(default_factory=dict)


class RunResult(Record):
    """What came back from a sandbox run."""

    exit_code: int | None
    status: RunStatus
    stdout_tail: str = ""
    stderr_tail: str = ""
    duration_s: float = 0.0
    output_dir: Path | None = None
    backend: str = ""
    network_isolated: bool = True
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def failure(self, tail_lines: int = 1) -> str:
        """Why the run failed: the framework's message first (e.g. the `final_info.json`
        validation error), then the last lines of stderr (often a harmless warning)."""
        tail = self.stderr_tail.strip().splitlines()[-tail_lines:] if tail_lines else []
        return " | ".join([self.message or self.status, *tail])


# --------------------------------------------------------------------------- experiments


class MetricSummary(Record):
    """One metric over seeds. A pack reports `values`; `mean` and `std` (the sample standard
    deviation, `scientist.stats`) are computed from them, and a pack's own mean or std that
    disagrees with its values is rejected."""

    values: list[float] = Field(min_length=1)
    mean: float
    std: float

    @model_validator(mode="before")
    @classmethod
    def _summarise(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("values"), list):
            return data
        try:
            mean, std = mean_std([float(v) for v in data["values"]])
        except (TypeError, ValueError):
            return data  # the field validation says what is wrong with the values
        for name, computed in (("mean", mean), ("std", std)):
            reported = data.get(name)
            if (
                reported is not None
                and math.isfinite(computed)
                and not agrees(float(reported), computed)
            ):
                raise ValueError(
                    f"{name} {reported} disagrees with its values ({name} {computed:.6g}, "
                    "sample std with n - 1): report values only, or their exact mean and std"
                )
        return {**data, "mean": mean, "std": std}


class FinalInfo(BaseModel):
    """`final_info.json` written by a pack's experiment.py (extra keys are kept)."""

    model_config = ConfigDict(extra="allow")

    metrics: dict[str, MetricSummary] = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(min_length=1)
    runtime_s: float = Field(ge=0)


class Grade(BaseModel):
    """`grade.json`, written by a pack's grader: the metrics it measured itself, in the
    schema of `final_info.json`'s (extra keys are kept)."""

    model_config = ConfigDict(extra="allow")

    metrics: dict[str, MetricSummary] = Field(min_length=1)


class ExperimentRun(Record):
    """One run of an idea's experiment (run_0 of a campaign is the pack baseline).

    `final_info.metrics` are the metrics the campaign trusts: the grader's when the pack has
    one (`grade` is then `graded` or `score_mismatch`), the run's own otherwise
    (`self_reported`). `claimed` keeps what the run itself reported when it was graded, and
    `mismatches` says where the claim disagreed with the grade beyond the pack's tolerance."""

    idea_id: str
    index: int = Field(ge=0)
    result: RunResult
    final_info: FinalInfo | None = None
    run_dir: Path
    code_dir: Path | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    grade: GradeStatus = "self_reported"
    claimed: dict[str, MetricSummary] | None = None
    mismatches: list[str] = Field(default_factory=list)
    grading_s: float = Field(default=0.0, ge=0, description="the grader's wall time")

    def metric(self, name: str) -> float | None:
        if self.final_info is None or name not in self.final_info.metrics:
            return None
        return self.final_info.metrics[name].mean


class SearchNodeRecord(Record):
    """One node of an idea's code tree search, as appended to `search/tree.jsonl`.

    `node` numbers its folder `search/node_<k>` and, when it ran, its run `run_<k>`;
    `parent` is the node it improved (None for a fresh draft from the pack's code).
    """

    node: int = Field(ge=1)
    parent: int | None = None
    model: str
    score: float = Field(ge=0, le=1, description="what the search maximised")
    ran: bool = True
    note: str = ""


# --------------------------------------------------------------------------- ideas

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


class Idea(Record):
    """A research idea. `overrides` is the pack configuration it proposes (offline path)."""

    name: str = Field(description="short snake_case identifier")
    title: str
    hypothesis: str
    plan: str = Field(description="the experiment plan, in a few sentences")
    interestingness: int = Field(default=5, ge=1, le=10)
    feasibility: int = Field(default=5, ge=1, le=10)
    novelty: int = Field(default=5, ge=1, le=10)
    overrides: dict[str, Any] = Field(default_factory=dict)
    parents: list[str] = Field(default_factory=list)
    generation: int = Field(default=0, ge=0)
    origin: Literal["seed", "llm", "offline"] = "offline"
    novelty_status: NoveltyStatus = "unchecked"
    proposed_by: str | None = Field(
        default=None, description="the model call that proposed it (rewarded by its review)"
    )

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        value = re.sub(r"[^a-z0-9_]+", "_", value.strip().lower()).strip("_")
        if not _SLUG.match(value):
            raise ValueError("name must be a short snake_case identifier")
        return value


class Effect(Record):
    """One measured difference of a metric: an idea's run against the run it is compared
    with (`vs`), signed so that positive is better. `n` is [idea seeds, `vs` seeds]; `test`
    says how the 95 % interval was made: `paired` over shared seeds, `welch` otherwise,
    `exact` for a deterministic pack measured once, `none` when it has no interval
    (fewer than two seeds on a side: `low` and `high` are then None)."""

    vs: str = Field(description="the run compared with, by campaign path (e.g. baseline/run_0)")
    metric: str
    mean: float
    low: float | None = None
    high: float | None = None
    n: list[int] = Field(min_length=2, max_length=2)
    test: EffectTest

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


class ArchiveEntry(Record):
    """An idea's line in `archive.jsonl`: status and scores (the evolutionary archive).

    `effect` is the idea's own effect, against its control (`control` says what that is);
    `gain` is the same run against the campaign baseline. `confirmation` is the effect
    measured again on fresh seeds, for the campaign's best idea."""

    id: str
    idea: Idea
    status: IdeaStatus = "proposed"
    metric: float | None = None
    baseline_metric: float | None = None
    improvement: float | None = Field(default=None, description="signed by the metric's goal")
    control: str | None = Field(default=None, description="what the idea is measured against")
    effect: Effect | None = None
    gain: Effect | None = None
    confirmation: Effect | None = None
    confirmation_error: str = ""
    review_score: float | None = None
    decision: Decision | None = None
    weaknesses: list[str] = Field(default_factory=list)
    runs: int = 0
    error: str = ""
    grade: GradeStatus | None = Field(
        default=None, description="where `metric` comes from (None: no successful run)"
    )
    mismatches: list[str] = Field(
        default_factory=list, description="a `score_mismatch` idea: where its claim disagreed"
    )
    updated: str = Field(default_factory=utc_now)

    @property
    def fitness(self) -> tuple[float, float]:
        """How good the configuration is, with its uncertainty: the lower bound of the 95 %
        interval of its gain over the campaign baseline, then the mean gain (an idea with no
        interval ranks after every idea with one)."""
        gain = self.gain
        if gain is None:
            improvement = self.improvement if self.improvement is not None else float("-inf")
            return (float("-inf"), improvement)
        return (gain.low if gain.low is not None else float("-inf"), gain.mean)

    @property
    def may_parent(self) -> bool:
        """Whether breeding may start from it: a measured idea the review did not reject and
        that did not misreport its score (a `no_effect` idea duplicates its control and is
        never one)."""
        return (
            self.status == "done" and self.decision != "reject" and self.grade != "score_mismatch"
        )

    @property
    def confirmed(self) -> bool | None:
        """Whether the confirmation on fresh seeds showed an effect above zero (None: none ran)."""
        if self.confirmation is None:
            return None
        return self.confirmation.low is not None and self.confirmation.low > 0


# --------------------------------------------------------------------------- papers & reviews


FigureAction = Literal["kept", "caption_rewritten", "text_revised", "reference_added", "dropped"]


class FigureCheck(Record):
    """What the writer's figure review found about one body figure, and what was done:
    `dropped` moves it to `supplementary/`; `text_revised` sent the findings to the sections'
    reviser; `reference_added` means the final text refers to it where the drafts did not."""

    label: str
    name: str
    findings: list[str] = Field(default_factory=list)
    actions: list[FigureAction] = Field(default_factory=list)


class Paper(Record):
    idea_id: str
    tex_path: Path
    pdf_path: Path | None = None
    compiled: bool = False
    pages: int | None = None
    unsourced_numbers: list[str] = Field(default_factory=list)
    skipped_citations: list[str] = Field(default_factory=list)
    compile_rounds: int = 0
    errors: list[str] = Field(default_factory=list)
    figure_review: list[FigureCheck] = Field(default_factory=list)


ClaimVerdict = Literal["supported", "unsupported", "contradicted"]


class ClaimCheck(Record):
    """One quantitative or causal claim of a paper, checked against the evidence."""

    claim: str = Field(description="the claim, quoted or closely paraphrased")
    verdict: ClaimVerdict
    evidence: str = Field(default="", description="where in the evidence it is checked")


class Review(Record):
    """One reviewer's filled form (reviews/form.toml)."""

    summary: str
    claims: list[ClaimCheck] = Field(default_factory=list)
    strengths: list[str]
    weaknesses: list[str]
    questions: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    ethical_concerns: bool = False
    originality: int = Field(ge=1, le=4)
    quality: int = Field(ge=1, le=4)
    clarity: int = Field(ge=1, le=4)
    significance: int = Field(ge=1, le=4)
    soundness: int = Field(ge=1, le=4)
    presentation: int = Field(ge=1, le=4)
    contribution: int = Field(ge=1, le=4)
    overall: int = Field(ge=1, le=10)
    confidence: int = Field(ge=1, le=5)
    decision: Decision


class MetaReview(Record):
    """The area chair's aggregate; `decision` is calibrated on the ensemble's mean overall."""

    summary: str
    strengths: list[str]
    weaknesses: list[str]
    overall: float = Field(ge=1, le=10)
    overall_std: float = 0.0
    decision: Decision
    threshold: float
    n_reviews: int = Field(ge=1)
    reviewer: str = Field(description="'rubric' or the models that reviewed")


# --------------------------------------------------------------------------- costs


class Usage(Record):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = Field(default=True, description="False when the model has no known price")
    image_tokens: int = Field(
        default=0, description="of input_tokens, those estimated for the images the requests sent"
    )
    image_usd: float = Field(default=0.0, description="image_tokens at the model's input price")
    cached_input_tokens: int = Field(
        default=0, description="of input_tokens, those read from the provider's prompt cache"
    )
    cache_write_tokens: int = Field(
        default=0, description="of input_tokens, those written to the prompt cache (Anthropic)"
    )


class LedgerEntry(Record):
    """One model call, as appended to `ledger.jsonl`."""

    call_id: str
    role: str
    model: str
    usage: Usage
    latency_s: float
    ok: bool = True
    error: str = ""
    settled: bool = Field(
        default=True, description="False: in flight at a kill, `usage` is its worst-case estimate"
    )
    time: str = Field(default_factory=utc_now)
