"""Experiment packs: the `template.toml` manifest, loading and validation."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scientist.errors import TemplateError

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
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise TemplateError(f"{manifest_path}: field '{field}': {first['msg']}") from None
    for script in (manifest.entrypoint, manifest.plot):
        if not (root / script).is_file():
            raise TemplateError(f"{manifest_path}: '{script}' does not exist in {root}")
    return Template(root=root, manifest=manifest)
