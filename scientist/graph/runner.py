"""Start, resume and inspect campaigns: the graph driven to its end with live progress."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.errors import CampaignError
from scientist.experiments.smoke import check_pack
from scientist.graph.build import build_graph, open_checkpointer
from scientist.graph.context import Context
from scientist.graph.state import CampaignState, finished_ids
from scientist.progress import CampaignProgress
from scientist.sandbox import open_sandbox
from scientist.templates import load_template


def open_context(campaign: Campaign) -> Context:
    config = campaign.config
    template = load_template(config.template)
    sandbox = open_sandbox(config.sandbox, campaign=campaign.name)
    llm = None
    if not config.models.offline:
        from scientist.llm import open_llm

        llm = open_llm(config.models, campaign=campaign, budget_usd=config.budget_usd, seed=0)
    return Context(campaign=campaign, template=template, sandbox=sandbox, llm=llm)


def default_campaign_dir(config: CampaignConfig) -> Path:
    name = config.name or f"{Path(config.template).name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    return Path("campaigns") / name


def start_campaign(config: CampaignConfig, *, quiet: bool = False) -> Campaign:
    """Check the pack (smoke run, before any model spend), create the campaign, run it."""
    template = load_template(config.template)
    root = config.campaign_dir or default_campaign_dir(config)
    _check_new_root(root)
    _check_models(config)
    check_pack(template, open_sandbox(config.sandbox), config)
    campaign = Campaign.create(root, config.model_copy(update={"template": str(template.root)}))
    drive(open_context(campaign), {"generation": 0, "entries": {}, "runs": []}, quiet=quiet)
    return campaign


def _check_new_root(root: Path) -> None:
    """Refuse a directory that holds a campaign, or a path that cannot become one."""
    if (root / Campaign.CONFIG).exists():
        raise CampaignError(f"{root} already holds a campaign", hint=f"scientist resume {root}")
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise CampaignError(
            f"cannot create campaign directory {root}: {existing} is a file",
            hint="pass --campaign a new or empty directory",
        )


def _check_models(config: CampaignConfig) -> None:
    """Open (and close) every model the campaign names, so that a bad model string, a
    missing key or script fails before the smoke run and before any directory is made."""
    if config.models.offline:
        return
    from scientist.llm import open_llm

    open_llm(config.models).close()


def resume_campaign(root: Path, *, quiet: bool = False) -> Campaign:
    """Continue a campaign from its last checkpoint; a STOP file is cleared first."""
    campaign = Campaign.open(root)
    campaign.stop_file.unlink(missing_ok=True)
    drive(open_context(campaign), None, quiet=quiet)
    return campaign


def drive(ctx: Context, graph_input: dict[str, Any] | None, *, quiet: bool) -> CampaignState:
    """Stream the graph to its end (or a stop), showing progress; returns the final state."""
    config = _thread(ctx)
    try:
        with open_checkpointer(ctx) as saver:
            graph = build_graph(ctx, saver)
            if graph_input is None:
                _reopen_if_stopped(ctx, graph, config)
                snapshot = graph.get_state(config)
                if snapshot.values and not snapshot.tasks:  # Send tasks are not in .next
                    done = len(finished_ids(snapshot.values))
                    name = ctx.campaign.name
                    print(f"{name}: already finished (ideas done: {done}); nothing to do")
                    return snapshot.values
            with CampaignProgress(ctx.campaign, quiet=quiet) as progress:
                events = graph.stream(graph_input, config, stream_mode="tasks", subgraphs=True)
                for _namespace, event in events:
                    progress.handle(event)
            return graph.get_state(config).values
    finally:
        if ctx.llm is not None:
            ctx.llm.close()


def read_state(campaign: Campaign) -> CampaignState:
    """The campaign's last checkpointed state (empty before the first step)."""
    ctx = Context(campaign=campaign, template=load_template(campaign.config.template), sandbox=None)
    with open_checkpointer(ctx) as saver:
        return build_graph(ctx, saver).get_state(_thread(ctx)).values


def _thread(ctx: Context) -> dict[str, Any]:
    limit = 20 + 6 * ctx.config.max_ideas
    return {
        "configurable": {"thread_id": ctx.campaign.name},
        "recursion_limit": limit,
        "max_concurrency": ctx.config.max_parallel + 1,
    }


def _reopen_if_stopped(ctx: Context, graph: Any, config: dict[str, Any]) -> None:
    """A campaign that ended on a STOP file (or budget) continues from `archive` on resume."""
    snapshot = graph.get_state(config)
    values = snapshot.values
    if snapshot.next or not values.get("stop_reason"):
        return
    if len(finished_ids(values)) < ctx.config.max_ideas:
        graph.update_state(config, {"stop_reason": None}, as_node="archive")
