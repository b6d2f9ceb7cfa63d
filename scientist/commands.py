"""Campaign commands: run, resume, status, ideas, and `templates list|check`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from scientist.authoring.cli import InstallRequirements
from scientist.campaign import Campaign
from scientist.config import load_config
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
from scientist.stats import number
from scientist.templates import load_template
from scientist.view.activity import elapsed

console = Console(soft_wrap=True)


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
    since = f", {elapsed(time.time() - flight.since)}" if flight.since is not None else ""
    return f"{flight.idea_id} ({flight.step}{where}{since})"


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
    return "—" if value is None else number(value, ".4g")


def register(app: typer.Typer) -> None:
    """Add the campaign commands to the root CLI."""
    for command in (run, resume, status, ideas):
        app.command(command.__name__)(command)
