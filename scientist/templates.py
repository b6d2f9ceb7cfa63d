"""Experiment packs: the `template.toml` manifest, loading and validation."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scientist.errors import TemplateError
from scientist.models import FinalInfo, Idea

TEMPLATES_ROOT = Path(__file__).resolve().parent.parent / "templates"

Choice = str | int | float | bool


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Metric(Manifest):
    name: str
    goal: Literal["maximize", "minimize"] = "maximize"


class Resources(Manifest):
    cpus: float = Field(default=1.0, gt=0)
    memory_gb: float = Field(default=4.0, gt=0)
    gpu: Literal["none", "optional", "required"] = "none"
    timeout_s: float = Field(default=1800, gt=0)


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


class TemplateManifest(Manifest):
    name: str
    title: str
    description: str
    entrypoint: str = "experiment.py"
    plot: str = "plot.py"
    metric: Metric
    resources: Resources = Field(default_factory=Resources)
    search_space: dict[str, Knob] = Field(min_length=1)
    requirements: list[str] = Field(default_factory=list)
    smoke_args: list[str] = Field(default_factory=lambda: ["--smoke"])
    baseline: dict[str, Any] = Field(
        default_factory=dict, description="overrides for run_0; empty = the pack's defaults"
    )


class Template(BaseModel):
    """A loaded pack: its directory and validated manifest."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    manifest: TemplateManifest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def metric(self) -> Metric:
        return self.manifest.metric

    def seed_ideas(self) -> list[Idea]:
        """The pack's `seed_ideas.json`, validated; an absent file means no seeds."""
        path = self.root / "seed_ideas.json"
        if not path.is_file():
            return []
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise TemplateError(f"{path}: expected a list of ideas")
        ideas = []
        for index, row in enumerate(rows):
            try:
                idea = Idea.model_validate({"origin": "seed", **row})
            except ValidationError as exc:
                raise TemplateError(f"{path}: idea {index}: {_first_error(exc)}") from None
            ideas.append(idea)
        return ideas

    def seed_ideas_repeating_baseline(self, baseline_config: dict[str, Any]) -> list[str]:
        """Seed ideas whose run would repeat the baseline run_0, by name.

        An idea's run is the pack's defaults plus the idea's overrides; run_0 is the defaults
        plus `[baseline]`. They coincide when the idea sets every `[baseline]` knob to the
        baseline's value and every other knob it sets to the value the baseline resolved to
        (`baseline_config`, the `config` of the baseline's final_info.json).
        """
        resolved = {**baseline_config, **self.manifest.baseline}
        return [
            idea.name
            for idea in self.seed_ideas()
            if set(self.manifest.baseline) <= set(idea.overrides)
            and all(k in resolved and resolved[k] == v for k, v in idea.overrides.items())
        ]

    def content_hash(self) -> str:
        """A digest of every file in the pack: equal hashes mean an identical pack."""
        digest = hashlib.sha256()
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(self.root)).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def read_final_info(self, path: Path) -> FinalInfo:
        """Validate a run's `final_info.json`: FinalInfo, with the pack's metric present."""
        if not path.is_file():
            raise TemplateError(f"{path} was not written by {self.manifest.entrypoint}")
        try:
            info = FinalInfo.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise TemplateError(f"{path}: {_first_error(exc)}") from None
        if self.metric.name not in info.metrics:
            raise TemplateError(
                f"{path}: metric '{self.metric.name}' (from template.toml) is missing",
                hint=f"metrics present: {', '.join(sorted(info.metrics))}",
            )
        return info


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"field '{field}': {first['msg']}"


def list_templates(root: Path = TEMPLATES_ROOT) -> list[Template]:
    """Every pack under `root` that loads; a broken pack raises with its file and field."""
    if not root.is_dir():
        return []
    packs = [p for p in sorted(root.iterdir()) if (p / "template.toml").is_file()]
    return [load_template(str(p)) for p in packs]


def resolve_template_dir(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate.resolve()
    packaged = TEMPLATES_ROOT / name_or_path
    if packaged.is_dir():
        return packaged
    known = ", ".join(sorted(p.name for p in TEMPLATES_ROOT.iterdir() if p.is_dir())) or "none"
    raise TemplateError(f"no experiment pack '{name_or_path}'", hint=f"known packs: {known}")


def load_template(name_or_path: str) -> Template:
    root = resolve_template_dir(name_or_path)
    manifest_path = root / "template.toml"
    if not manifest_path.is_file():
        raise TemplateError(f"{root} has no template.toml")
    try:
        data = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
        manifest = TemplateManifest.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{manifest_path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise TemplateError(f"{manifest_path}: {_first_error(exc)}") from None
    for script in (manifest.entrypoint, manifest.plot):
        if not (root / script).is_file():
            raise TemplateError(f"{manifest_path}: '{script}' does not exist in {root}")
    return Template(root=root, manifest=manifest)
