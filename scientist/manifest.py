"""The schema of a pack's `template.toml`: metric, resources, knobs, agent files, grader."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scientist.ai_scientist import AIScientistFormat
from scientist.models import MAX_CPUS, MAX_MEMORY_MB, MAX_TIMEOUT_S
from scientist.sanity import MetricBounds

Choice = str | int | float | bool


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Metric(Manifest):
    name: str
    goal: Literal["maximize", "minimize"] = "maximize"


class Resources(Manifest):
    cpus: float = Field(default=1.0, gt=0, le=MAX_CPUS)
    memory_gb: float = Field(default=4.0, gt=0, le=MAX_MEMORY_MB / 1024)
    gpu: Literal["none", "optional", "required"] = "none"
    timeout_s: float = Field(default=1800, gt=0, le=MAX_TIMEOUT_S)


class Range(Manifest):
    """A numeric knob: uniform (or log-uniform) in [low, high]; integer when `integer`."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


Knob = list[Choice] | Range
Seeding = Literal["stochastic", "deterministic"]

SOURCE_PATTERNS = [
    "**/*.py",
    "**/*.md",
    "**/*.toml",
    "**/*.json",
    "**/*.txt",
    "**/*.yaml",
    "**/*.yml",
]


class AgentFiles(Manifest):
    """What the code model sees and changes: pack-relative glob patterns (`**/` is any
    folder). It may also create new files inside the pack; `context_tokens` bounds the files
    shown in full, the rest come as outlines it can ask to read. `protected` files may be
    read, never edited (the grader, whatever defines its held-out data)."""

    readable: list[str] = Field(default_factory=lambda: list(SOURCE_PATTERNS))
    editable: list[str] = Field(default_factory=lambda: ["**/*.py"])
    protected: list[str] = Field(default_factory=list)
    context_tokens: int = Field(default=4000, ge=1000)


class Grader(Manifest):
    """The pack's own judge of a run: `command` runs in a pristine copy of the pack (never an
    idea's edited copy) with `--run-dir DIR` (the run's outputs, read-only), `--config FILE`
    (the run's overrides as the host wrote them), `--out-dir out` and, at smoke size, the
    pack's `smoke_args`; it writes `out/grade.json`. A claimed metric whose per-seed values
    differ from the grade's by more than its `tolerance` (default `default_tolerance`) is a
    score mismatch."""

    command: list[str] = Field(min_length=1)
    timeout_s: float = Field(default=600, gt=0)
    tolerance: dict[str, float] = Field(default_factory=dict)
    default_tolerance: float = Field(default=1e-9, ge=0)

    def tolerance_of(self, metric: str) -> float:
        return self.tolerance.get(metric, self.default_tolerance)


class TemplateManifest(Manifest):
    name: str
    title: str
    description: str
    entrypoint: str = "experiment.py"
    plot: str = "plot.py"
    metric: Metric
    resources: Resources = Field(default_factory=Resources)
    search_space: dict[str, Knob] = Field(
        default_factory=dict, description="empty: ideas change the code, which needs a model"
    )
    requirements: list[str] = Field(default_factory=list)
    smoke_args: list[str] = Field(default_factory=lambda: ["--smoke"])
    smoke_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="a smoke run still going at this limit passes `templates check` unchecked",
    )
    baseline: dict[str, Any] = Field(
        default_factory=dict, description="overrides for run_0; empty = the pack's defaults"
    )
    ai_scientist: AIScientistFormat | None = Field(
        default=None, description="set: an AI Scientist (v1) template run unchanged"
    )
    agent: AgentFiles = Field(default_factory=AgentFiles)
    grader: Grader | None = Field(
        default=None, description="unset: the run's own metrics are used, labelled self-reported"
    )
    # What a pack declares about its own runs and figures (any pack, not only ours).
    seeding: Seeding = Field(
        default="stochastic",
        description="'deterministic': one run measures a configuration exactly (no seeds)",
    )
    main_figures: list[str] = Field(
        default_factory=list,
        description="figure names (file stems) for the paper's body, in order; others go "
        "to the supplementary folder",
    )
    sanity: dict[str, MetricBounds] = Field(
        default_factory=dict, description="per-metric bounds; a run outside them failed"
    )
