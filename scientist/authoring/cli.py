"""`scientist templates`: list, check, create and import experiment packs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from scientist.authoring.importer import DEFAULT_SMOKE_TIMEOUT_S, ImportRequest, import_template
from scientist.authoring.program_search import FORMAT_NAMES, EvolveImportRequest
from scientist.authoring.scaffold import new_pack
from scientist.authoring.task_formats import TaskFormat, import_evolve_task, task_format
from scientist.config import load_config
from scientist.errors import ConfigError, TemplateError
from scientist.experiments.smoke import check_pack
from scientist.sandbox import open_sandbox
from scientist.stats import number
from scientist.templates import TEMPLATES_ROOT, list_templates, load_template

console = Console(soft_wrap=True)
InstallRequirements = Annotated[
    bool,
    typer.Option(
        "--install-requirements",
        help="install the pack's requirements into a per-pack environment (local sandbox)",
    ),
]
templates_app = typer.Typer(
    help="List, check, create and import experiment packs.", no_args_is_help=True
)


@templates_app.command("list")
def templates_list() -> None:
    """The packs found by name: those in $SCIENTIST_PACKS folders, then the shipped ones."""
    shipped = TEMPLATES_ROOT.resolve()
    table = Table(title="experiment packs")
    for column in ("name", "metric", "knobs", "title", "from"):
        table.add_column(column)
    for pack in list_templates():
        metric = f"{pack.metric.name} ({pack.metric.goal})"
        source = "shipped" if pack.root.parent == shipped else str(pack.root.parent)
        knobs = ", ".join(pack.manifest.search_space)
        table.add_row(pack.name, metric, knobs, pack.manifest.title, source)
    console.print(table)


@templates_app.command("check")
def templates_check(
    pack: Annotated[str, typer.Argument(help="pack name or directory")],
    sandbox: Annotated[
        str | None, typer.Option(help="local | docker | ray; default: the config's, else local")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="campaign TOML file whose [sandbox] tables apply (a docker image)"),
    ] = None,
    install_requirements: InstallRequirements = False,
) -> None:
    """Validate the manifest and seed ideas, check that every requirement imports in the
    sandbox, smoke-run the pack, validate its final_info.json."""
    template = load_template(pack)
    seeds = template.seed_ideas()
    overrides = {
        "template": str(template.root),
        "sandbox.kind": sandbox,
        "install_requirements": True if install_requirements else None,
    }
    settings = load_config(config, overrides)
    info = check_pack(template, open_sandbox(settings.sandbox), settings, use_cache=False)
    if info is None:
        smoke = (
            f"smoke run still going without an error at its "
            f"{template.manifest.smoke_timeout_s:g} s limit (final_info.json not checked)"
        )
    else:
        repeats = template.seed_ideas_repeating_baseline(info.config)
        if repeats:
            raise TemplateError(
                f"seed idea(s) {', '.join(repeats)} of pack '{template.name}' resolve to the "
                "baseline's configuration, so they cannot improve on it",
                hint="change their overrides, or the [baseline] table of template.toml",
            )
        value = info.metrics[template.metric.name].mean
        graded = "graded" if template.manifest.grader else "self-reported: the pack has no grader"
        smoke = (
            f"smoke run {template.metric.name} = {number(value, '.4g')} in "
            f"{duration(info.runtime_s)} ({graded})"
        )
    console.print(f"ok: {template.name}: manifest, {len(seeds)} seed ideas, {smoke}")


@templates_app.command("new")
def templates_new(
    name: Annotated[str, typer.Argument(help="the new pack's name (and folder name)")],
    into: Annotated[Path, typer.Option(help="folder to create the pack in")] = Path("."),
) -> None:
    """Create a working pack to start from: it passes `templates check` as it is."""
    pack = new_pack(name, into)
    console.print(f"created {pack}; next: scientist templates check {pack}")


@templates_app.command("import")
def templates_import(
    source: Annotated[
        Path, typer.Argument(help="an AI Scientist (v1), OpenEvolve or ShinkaEvolve task folder")
    ],
    metric: Annotated[
        str | None,
        typer.Option(
            help="a key of final_info.json's 'means' (v1, required); for OpenEvolve and "
            "ShinkaEvolve a number the evaluator returns (default: their combined_score)"
        ),
    ] = None,
    goal: Annotated[str, typer.Option(help="maximize | minimize")] = "maximize",
    dataset: Annotated[
        str | None, typer.Option(help="the dataset (top-level key) whose metrics count")
    ] = None,
    aggregate: Annotated[
        str | None, typer.Option(help="'mean': each metric averaged over every dataset")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the pack's name; default: the folder's")] = None,
    into: Annotated[Path, typer.Option(help="folder to create the pack in")] = Path("."),
    smoke_args: Annotated[
        str | None,
        typer.Option(help="arguments for a smaller smoke run, e.g. '--num_seeds=1'"),
    ] = None,
    smoke_timeout: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="a smoke run still going without an error after this many seconds passes "
            f"(default without --smoke-args: {DEFAULT_SMOKE_TIMEOUT_S:g})",
        ),
    ] = None,
) -> None:
    """Make a pack of an AI Scientist (v1) template, or of an OpenEvolve or ShinkaEvolve task;
    the task's files stay as they are."""
    fmt = task_format(source)
    if fmt != "ai_scientist":
        v1_only = {"--dataset": dataset, "--aggregate": aggregate, "--smoke-args": smoke_args}
        given = [flag for flag, value in v1_only.items() if value is not None]
        if given:
            raise ConfigError(
                f"{', '.join(given)}: for AI Scientist templates only; {source} is a task "
                f"in {FORMAT_NAMES[fmt]}'s format"
            )
        _import_program_search(source, fmt, metric, goal, name, into, smoke_timeout)
        return
    if metric is None:
        raise ConfigError("--metric is required for an AI Scientist template")
    request = _request(
        ImportRequest,
        source=source,
        metric=metric,
        goal=goal,
        dataset=dataset,
        aggregate=aggregate,
        name=name,
        into=into,
        smoke_args=shlex.split(smoke_args or ""),
        smoke_timeout_s=smoke_timeout,
    )
    pack = import_template(request)
    manifest = pack.manifest
    knobs = "no knobs: its ideas are code changes, which need a model (--llm)"
    if manifest.search_space:
        knobs = f"knobs from its flags: {', '.join(manifest.search_space)}"
    console.print(f"created {pack.root} ({knobs}); next: scientist templates check {pack.root}")
    console.print(
        f"inferred: requirements {', '.join(manifest.requirements) or 'none beyond what imports'}"
        f"; gpu {manifest.resources.gpu}; seeding {manifest.seeding}",
        markup=False,
    )


def _import_program_search(
    source: Path,
    fmt: TaskFormat,
    metric: str | None,
    goal: str,
    name: str | None,
    into: Path,
    smoke_timeout: float | None,
) -> None:
    request = _request(
        EvolveImportRequest,
        source=source,
        metric=metric,
        goal=goal,
        name=name,
        into=into,
        smoke_timeout_s=smoke_timeout,
    )
    pack = import_evolve_task(request, fmt)
    console.print(
        f"created {pack.root} (metric {pack.metric.name}, scored by its evaluator; no knobs: "
        f"its ideas are code changes, which need a model (--llm)); next: scientist templates "
        f"check {pack.root}"
    )


def duration(seconds: float) -> str:
    """'12.3 s', or '32 ms' below a tenth of a second (never '0.0 s')."""
    return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


Request = TypeVar("Request", bound=BaseModel)


def _request(kind: type[Request], **options: Any) -> Request:
    """The import request of the command's options; a bad one is a ConfigError naming it."""
    try:
        return kind(**options)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"--{first['loc'][0]}: {first['msg']}") from None
