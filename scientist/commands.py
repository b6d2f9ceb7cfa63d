"""Campaign commands: run, resume, status, ideas, and `templates list|check`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from scientist.campaign import Campaign
from scientist.config import load_config
from scientist.errors import TemplateError
from scientist.experiments.smoke import check_pack
from scientist.graph.runner import read_state, resume_campaign, start_campaign
from scientist.llm.pool import STATS, ModelStats
from scientist.report import leaderboard
from scientist.sandbox import open_sandbox
from scientist.templates import list_templates, load_template

console = Console(soft_wrap=True)
templates_app = typer.Typer(help="List and check experiment packs.", no_args_is_help=True)


def run(
    template: Annotated[
        str | None, typer.Option(help="pack name under templates/ or a path")
    ] = None,
    llm: Annotated[str | None, typer.Option(help="model for every role, or 'none'")] = None,
    ideas: Annotated[int | None, typer.Option(help="how many ideas to run")] = None,
    budget_usd: Annotated[float | None, typer.Option(help="hard cap on model spend")] = None,
    sandbox: Annotated[str | None, typer.Option(help="local | docker | ray")] = None,
    campaign: Annotated[Path | None, typer.Option(help="campaign directory")] = None,
    config: Annotated[Path | None, typer.Option(help="campaign TOML file")] = None,
    smoke: Annotated[bool, typer.Option("--smoke", help="run packs with their smoke args")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="plain log lines")] = False,
) -> None:
    """Start a campaign: check the pack, then ideas -> runs -> archive until done."""
    overrides = {
        "template": template,
        "models.default": llm,
        "max_ideas": ideas,
        "budget_usd": budget_usd,
        "sandbox.kind": sandbox,
        "campaign_dir": str(campaign) if campaign else None,
        "smoke": True if smoke else None,
    }
    resolved = load_config(config, overrides)
    _interruptible(lambda: start_campaign(resolved, quiet=quiet), resolved.campaign_dir)


def resume(
    directory: Annotated[Path, typer.Argument(help="campaign directory")],
    quiet: Annotated[bool, typer.Option("--quiet", help="plain log lines")] = False,
) -> None:
    """Continue a campaign from its last checkpoint (after a crash, Ctrl-C or STOP)."""
    _interruptible(lambda: resume_campaign(directory, quiet=quiet), directory)


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
    """Ideas with their best metric, improvement, review score and decision; the model pool's
    win rates and costs; the cost so far."""
    campaign = Campaign.open(directory)
    template = load_template(campaign.config.template)
    state = read_state(campaign)
    baseline = state.get("baseline")
    base = baseline.metric(template.metric.name) if baseline else None
    table = Table(
        title=f"{campaign.name} ({template.name}, {template.metric.name} {template.metric.goal})"
    )
    columns = ("idea", "status", template.metric.name, "improvement", "review", "decision", "runs")
    for column in columns:
        table.add_column(column)
    for entry in leaderboard(campaign.archive()):
        table.add_row(
            entry.id,
            entry.status,
            _fmt(entry.metric),
            _fmt(entry.improvement),
            _fmt(entry.review_score),
            entry.decision or "—",
            str(entry.runs),
        )
    console.print(table)
    pool = campaign.root / "pool.json"
    if pool.is_file():
        console.print(_pool_table(STATS.validate_json(pool.read_bytes())))
    stopped = state.get("stop_reason")
    console.print(
        f"baseline {template.metric.name}: {_fmt(base)} | cost so far: "
        f"${campaign.spent_usd():.4f}" + (f" | stopped: {stopped}" if stopped else "")
    )


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
    """The packs shipped under templates/."""
    table = Table(title="experiment packs")
    for column in ("name", "metric", "knobs", "title"):
        table.add_column(column)
    for pack in list_templates():
        metric = f"{pack.metric.name} ({pack.metric.goal})"
        table.add_row(pack.name, metric, ", ".join(pack.manifest.search_space), pack.manifest.title)
    console.print(table)


@templates_app.command("check")
def templates_check(
    pack: Annotated[str, typer.Argument(help="pack name or directory")],
    sandbox: Annotated[str, typer.Option(help="local | docker | ray")] = "local",
) -> None:
    """Validate the manifest and seed ideas, smoke-run the pack, validate its final_info.json."""
    template = load_template(pack)
    seeds = template.seed_ideas()
    config = load_config(None, {"template": str(template.root), "sandbox.kind": sandbox})
    info = check_pack(template, open_sandbox(config.sandbox), config, use_cache=False)
    repeats = template.seed_ideas_repeating_baseline(info.config)
    if repeats:
        raise TemplateError(
            f"seed idea(s) {', '.join(repeats)} of pack '{template.name}' resolve to the "
            "baseline's configuration, so they cannot improve on it",
            hint="change their overrides, or the [baseline] table of template.toml",
        )
    value = info.metrics[template.metric.name].mean
    console.print(
        f"ok: {template.name}: manifest, {len(seeds)} seed ideas, smoke run "
        f"{template.metric.name} = {value:.4g} in {info.runtime_s:.1f} s"
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


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def register(app: typer.Typer) -> None:
    """Add the campaign commands and the `templates` group to the root CLI."""
    for command in (run, resume, status, ideas):
        app.command(command.__name__)(command)
    app.add_typer(templates_app, name="templates")
