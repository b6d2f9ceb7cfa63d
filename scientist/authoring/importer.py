"""`scientist templates import`: an AI Scientist (v1) template as a pack, its files unchanged.

The template's folder is copied as it is into the new pack's folder, next to a generated
`template.toml`: the template's own description (`description.py`) is the pack's, the
metric is a key of final_info.json's `means` (of one dataset, or averaged over datasets),
and the `[ai_scientist]` table makes runs, figures and seed ideas follow the v1 format.
What the code shows is inferred: knobs from its argparse flags (`argparse_knobs.py`),
requirements and GPU need from its imports and devices (`inference.py`), and determinism
from a probe run (`probe.py`), which also checks the metric.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ValidationError

from scientist.ai_scientist import AIScientistFormat
from scientist.authoring.argparse_knobs import ArgparseKnobs, argparse_knobs
from scientist.authoring.description import own_description
from scientist.authoring.inference import inferred_gpu, inferred_requirements
from scientist.authoring.probe import probe_determinism
from scientist.errors import TemplateError
from scientist.safe_tree import copy_tree, is_regular_file
from scientist.templates import Template, load_template, pack_text

REQUIRED = ("experiment.py", "plot.py", "prompt.json")
DEFAULT_SMOKE_TIMEOUT_S = 60.0
IMPORTED_TIMEOUT_S = 7200.0


class PromptFile(BaseModel):
    system: str = ""
    task_description: str


class ImportRequest(BaseModel):
    """What `templates import` was asked for."""

    source: Path
    metric: str
    goal: Literal["maximize", "minimize"] = "maximize"
    dataset: str | None = None
    aggregate: Literal["mean"] | None = None
    name: str | None = None
    into: Path = Path(".")
    smoke_args: list[str] = []
    smoke_timeout_s: float | None = None


def import_template(request: ImportRequest) -> Template:
    """Copy the template into `into/<name>` with a generated manifest; return the pack."""
    source = request.source
    if not source.is_dir():
        raise TemplateError(f"{source} is not a directory")
    missing = [name for name in REQUIRED if not (source / name).is_file()]
    if missing:
        raise TemplateError(
            f"{source} is not an AI Scientist template: no {', '.join(missing)}",
            hint="a template has experiment.py (--out_dir), plot.py and prompt.json",
        )
    if (source / "template.toml").exists():
        raise TemplateError(
            f"{source} is already a pack", hint=f"scientist templates check {source}"
        )
    try:
        fmt = AIScientistFormat(dataset=request.dataset, aggregate=request.aggregate)
    except ValidationError:
        raise TemplateError("choose one of --dataset NAME or --aggregate mean") from None
    _check_baseline_results(source, fmt, request.metric)
    name = request.name or re.sub(r"[^a-z0-9_-]+", "_", source.resolve().name.lower())
    target = request.into / name
    if target.exists():
        raise TemplateError(f"{target} already exists", hint="choose another --name or --into")
    experiment = pack_text(source, "experiment.py")
    description = own_description(experiment, _task_description(source))
    description = description or f"The {name} experiment."
    manifest = _manifest(request, name, fmt, description, argparse_knobs(experiment))
    copy_tree(source, target, skip=["__pycache__"])
    (target / "template.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")
    try:
        deterministic = probe_determinism(load_template(str(target)))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if deterministic:
        manifest["seeding"] = "deterministic"
        (target / "template.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")
    return load_template(str(target))


def _task_description(source: Path) -> str:
    """The template's task, from its prompt.json (read without following a link)."""
    try:
        return PromptFile.model_validate_json(pack_text(source, "prompt.json")).task_description
    except ValidationError as exc:
        raise TemplateError(
            f"{source / 'prompt.json'} needs a 'task_description' string: {exc}"
        ) from None


def _check_baseline_results(source: Path, fmt: AIScientistFormat, metric: str) -> None:
    """When the template ships its baseline's results (run_0), the metric must be in them."""
    results = source / "run_0" / "final_info.json"
    if not is_regular_file(source, "run_0/final_info.json"):
        return
    try:
        info = fmt.final_info(json.loads(pack_text(source, "run_0/final_info.json")), 0.0)
    except ValueError as exc:
        raise TemplateError(f"{results}: {exc}") from None
    if metric not in info.metrics:
        raise TemplateError(
            f"{results} has no metric '{metric}'",
            hint=f"metrics there: {', '.join(sorted(info.metrics))}",
        )


def _manifest(
    request: ImportRequest,
    name: str,
    fmt: AIScientistFormat,
    description: str,
    knobs: ArgparseKnobs,
) -> dict[str, object]:
    smoke_timeout_s = request.smoke_timeout_s
    if smoke_timeout_s is None and not request.smoke_args:
        smoke_timeout_s = DEFAULT_SMOKE_TIMEOUT_S
    fmt = fmt.model_copy(update={"flags": knobs.flags})
    manifest: dict[str, object] = {
        "name": name,
        "title": f"{name.replace('_', ' ').capitalize()} (an AI Scientist template)",
        "description": description,
        "entrypoint": "experiment.py",
        "plot": "plot.py",
        "smoke_args": request.smoke_args,
        "metric": {"name": request.metric, "goal": request.goal},
        "resources": {"gpu": inferred_gpu(request.source), "timeout_s": IMPORTED_TIMEOUT_S},
        "requirements": inferred_requirements(request.source),
        "search_space": {k: _plain(v) for k, v in knobs.search_space.items()},
        "baseline": knobs.baseline,
        "ai_scientist": fmt.model_dump(exclude_defaults=True),
    }
    if smoke_timeout_s is not None:
        manifest["smoke_timeout_s"] = smoke_timeout_s
    return manifest


def _plain(knob: object) -> object:
    """A knob as TOML takes it: a list of choices, or a range's fields."""
    return knob.model_dump() if isinstance(knob, BaseModel) else knob
