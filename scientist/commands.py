"""Campaign commands: run, resume, status, ideas, and `templates list|check`."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from scientist.authoring.importer import DEFAULT_SMOKE_TIMEOUT_S, ImportRequest, import_template
from scientist.authoring.program_search import FORMAT_NAMES, EvolveImportRequest
from scientist.authoring.scaffold import new_pack
from scientist.authoring.task_formats import TaskFormat, import_evolve_task, task_format
from scientist.campaign import Campaign
from scientist.config import load_config
from scientist.errors import ConfigError, TemplateError
from scientist.experiments.smoke import check_pack
from scientist.graph.build import read_state
from scientist.graph.runner import resume_campaign, start_campaign
from scientist.graph.state import Flight
from scientist.llm.pool import ModelStats, read_pool
from scientist.pause import read_pause
from scientist.report import (
    campaign_warnings,
    describe_effect,
    image_spending,
    leaderboard,
    sizes,
)
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


def run(
    template: Annotated[
        str | None, typer.Option(help="pack name (shipped or in $SCIENTIST_PACKS) or a path")
    ] = None,
    llm: Annotated[str | None, typer.Option(help="model for every role, or 'none'")] = None,
    ideas: Annotated[int | None, typer.Option(help="how many ideas to run")] = None,
    parallel: Annotated[
        int | None, typer.Option(help="slots: ideas whose experiments run at once")
    ] = None,
    budget_usd: Annotated[float | None, typer.Option(help="hard cap on model spend")] = None,
    sandbox: Annotated[str | None, typer.Option(help="local | docker | ray")] = None,
    campaign: Annotated[Path | None, typer.Option(help="campaign directory")] = None,
    config: Annotated[Path | None, typer.Option(help="campaign TOML file")] = None,
    smoke: Annotated[bool, typer.Option("--smoke", help="run packs with their smoke args")] = False,
    baseline_paper: Annotated[
        bool,
        typer.Option(
            "--baseline-paper",
            help="offline on a pack with no knobs: run its baseline, and write and review a "
            "paper on it",
        ),
    ] = False,
    allow_unpriced: Annotated[
        bool,
        typer.Option("--allow-unpriced", help="accept models without a price under a budget"),
    ] = False,
    install_requirements: InstallRequirements = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="plain log lines")] = False,
) -> None:
    """Start a campaign: check the models and the pack, then ideas -> runs -> archive."""
    overrides = {
        "template": template,
        "models.default": llm,
        "max_ideas": ideas,
        "max_parallel": parallel,
        "budget_usd": budget_usd,
        "sandbox.kind": sandbox,
        "campaign_dir": str(campaign) if campaign else None,
        "smoke": True if smoke else None,
        "baseline_paper": True if baseline_paper else None,
        "models.allow_unpriced": True if allow_unpriced else None,
        "install_requirements": True if install_requirements else None,
    }
    resolved = load_config(config, overrides)
    _interruptible(lambda: start_campaign(resolved, quiet=quiet), resolved.campaign_dir)


def resume(
    directory: Annotated[Path, typer.Argument(help="campaign directory")],
    budget_usd: Annotated[
        float | None, typer.Option(min=0, help="raise the budget (after a budget pause)")
    ] = None,
    repay: Annotated[
        bool,
        typer.Option(
            "--repay", help="the journal lost calls the ledger lists: ask and pay for them again"
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="plain log lines")] = False,
) -> None:
    """Continue a campaign from its last checkpoint (after a crash, Ctrl-C, STOP or a budget
    pause)."""
    _interruptible(
        lambda: resume_campaign(directory, quiet=quiet, budget_usd=budget_usd, repay=repay),
        directory,
    )


def _interruptible(action: Callable[[], Campaign], directory: Path | None) -> None:
    try:
        campaign = action()
    except KeyboardInterrupt:
        where = directory or "the campaign directory"
        console.print(
            f"stopped; the last checkpoint is kept. Continue with: scientist resume {where}"
        )
        raise typer.Exit(130) from None
    console.print(f"report: {campaign.report_path}")


def status(directory: Annotated[Path, typer.Argument(help="campaign directory")]) -> None:
    """Ideas with their best metric, effect against their control, gain over the baseline,
    review score and decision; the run size; the model pool's win rates and costs; the cost
    so far."""
    campaign = Campaign.open(directory)
    template = load_template(campaign.config.template)
    state = read_state(campaign)
    baseline = state.get("baseline")
    base = baseline.metric(template.metric.name) if baseline else None
    table = Table(
        title=f"{campaign.name} ({template.name}, {template.metric.name} {template.metric.goal})"
    )
    columns = (
        "idea",
        "status",
        template.metric.name,
        "effect",
        "gain",
        "review",
        "decision",
        "runs",
    )
    for column in columns:
        table.add_column(column, no_wrap=column == "idea")
    for entry in leaderboard(campaign.archive()):
        confirmed = {True: " (confirmed)", False: " (did not confirm)", None: ""}[entry.confirmed]
        table.add_row(
            entry.id,
            entry.status + confirmed,
            _fmt(entry.metric),
            describe_effect(entry.effect, brief=True),
            describe_effect(entry.gain, brief=True),
            _fmt(entry.review_score),
            entry.decision or "—",
            str(entry.runs),
        )
    console.print(table)
    console.print(
        "effect: against the idea's own control; gain: against the campaign baseline "
        "(means with 95 % intervals)",
        markup=False,
    )
    console.print(sizes(campaign.config, template), markup=False)
    skipped = [e.id for e in campaign.archive() if e.status == "needs_code_model"]
    if skipped:
        console.print(
            f"needs a code model, not run offline: {', '.join(skipped)} "
            "(a campaign with a model for the `code` role implements them)"
        )
    pool = read_pool(campaign.pool_path)
    if pool:
        console.print(_pool_table(pool))
    flights = state.get("flights") or {}
    if flights:
        console.print("in flight: " + ", ".join(_flight(f) for f in flights.values()))
    stopped = state.get("stop_reason")
    pause = read_pause(campaign)
    images = image_spending(campaign.ledger())
    console.print(
        f"baseline {template.metric.name}: {_fmt(base)} | cost so far: "
        f"${campaign.spent_usd():.4f}"
        + (f" ({images})" if images else "")
        + (f" | stopped: {stopped}" if stopped else "")
        + (f" | {pause.describe()}" if pause else "")
    )
    for line in campaign_warnings(campaign):
        console.print(f"warning: {line}")


def _flight(flight: Flight) -> str:
    where = f", slot {flight.slot}" if flight.slot is not None else ""
    return f"{flight.idea_id} ({flight.step}{where})"


def ideas(directory: Annotated[Path, typer.Argument(help="campaign directory")]) -> None:
    """The evolutionary archive: every idea with its origin, parents and hypothesis."""
    campaign = Campaign.open(directory)
    table = Table(title=f"archive of {campaign.name}")
    for column in ("idea", "origin", "parents", "status", "novelty", "hypothesis"):
        table.add_column(column)
    for entry in sorted(campaign.archive(), key=lambda e: e.id):
        idea = entry.idea
        table.add_row(
            entry.id,
            idea.origin,
            ", ".join(idea.parents) or "—",
            entry.status,
            idea.novelty_status,
            idea.hypothesis,
        )
    console.print(table)


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
            f"{_duration(info.runtime_s)} ({graded})"
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
    try:
        request = ImportRequest(
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
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"--{first['loc'][0]}: {first['msg']}") from None
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
    try:
        request = EvolveImportRequest(
            source=source,
            metric=metric,
            goal=goal,
            name=name,
            into=into,
            smoke_timeout_s=smoke_timeout,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"--{first['loc'][0]}: {first['msg']}") from None
    pack = import_evolve_task(request, fmt)
    console.print(
        f"created {pack.root} (metric {pack.metric.name}, scored by its evaluator; no knobs: "
        f"its ideas are code changes, which need a model (--llm)); next: scientist templates "
        f"check {pack.root}"
    )


def _pool_table(arms: list[ModelStats]) -> Table:
    """Per (role, model): calls, wins/losses, the posterior win rate and the cost."""
    table = Table(title="model pool")
    for column in ("role", "model", "calls", "wins", "losses", "win rate", "cost (USD)"):
        table.add_column(column)
    for arm in sorted(arms, key=lambda arm: (arm.role, arm.model)):
        table.add_row(
            arm.role,
            arm.model,
            str(arm.calls),
            str(arm.wins),
            str(arm.losses),
            f"{arm.win_rate:.2f}",
            f"{arm.cost_usd:.4f}",
        )
    return table


def _duration(seconds: float) -> str:
    """'12.3 s', or '32 ms' below a tenth of a second (never '0.0 s')."""
    return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


def _fmt(value: float | None) -> str:
    return "—" if value is None else number(value, ".4g")


def register(app: typer.Typer) -> None:
    """Add the campaign commands and the `templates` group to the root CLI."""
    for command in (run, resume, status, ideas):
        app.command(command.__name__)(command)
    app.add_typer(templates_app, name="templates")
