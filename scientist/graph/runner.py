"""Start, resume and inspect campaigns: the graph driven to its end with live progress."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, is_offline
from scientist.context import Context, open_context
from scientist.errors import BudgetExceeded, CampaignError, ConfigError
from scientist.experiments.smoke import check_pack
from scientist.graph.build import build_graph, open_checkpointer, read_state, thread_of
from scientist.graph.migrate import adopt_batch_checkpoint
from scientist.graph.scheduler import Scheduler
from scientist.graph.state import CampaignState, ideas_started
from scientist.llm import open_llm
from scientist.llm.journal import check_journal
from scientist.llm.pricing import unpriced_models
from scientist.pause import clear_pause, read_pause, record_pause
from scientist.progress import CampaignProgress
from scientist.report import write_report
from scientist.sandbox import end_orphans, open_sandbox
from scientist.sandbox.common import remove_stale_scratch
from scientist.templates import Template, load_template


def default_campaign_dir(config: CampaignConfig) -> Path:
    name = config.name or f"{Path(config.template).name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    return Path("campaigns") / name


def start_campaign(config: CampaignConfig, *, quiet: bool = False) -> Campaign:
    """Check the models and the pack (smoke run, before any model spend), create the
    campaign, run it.

    Every service is opened once, before the campaign's folder exists: a bad model string, a
    missing key or script, a model without a price under a budget, a model that does not
    answer (key, URL, name), or an unusable sandbox fails before anything is created.
    """
    template = load_template(config.template)
    _refuse_full_size_smoke(template, config)
    config = _plan_without_knobs(template, config)
    root = config.campaign_dir or default_campaign_dir(config)
    _check_new_root(root)
    llm = open_llm(config.models, budget_usd=config.budget_usd, seed=0)
    try:
        check_prices(config)
        llm.check_models()
        sandbox = open_sandbox(config.sandbox, campaign=config.name or root.name)
        check_pack(template, sandbox, config)
        settings = config.model_copy(update={"template": str(template.root)})
        campaign = Campaign.create(root, settings)
    except BaseException:
        llm.close()
        raise
    ctx = open_context(campaign, template=template, sandbox=sandbox, llm=llm)
    with campaign.running():
        drive(ctx, {"generation": 0}, quiet=quiet)
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


def _refuse_full_size_smoke(template: Template, config: CampaignConfig) -> None:
    """`--smoke` means smaller settings: a pack that declares none would run at full size."""
    if config.smoke and not template.manifest.smoke_args:
        raise ConfigError(
            f"pack '{template.name}' declares no smaller settings (smoke_args in "
            "template.toml): --smoke would run it at full size",
            hint="add the pack's smaller settings as smoke_args (templates import "
            "--smoke-args '...'); to try the full-size pack briefly, `templates check` stops "
            "its smoke run at smoke_timeout_s (--smoke-timeout S) and says the metric is "
            "unchecked",
        )


def _plan_without_knobs(template: Template, config: CampaignConfig) -> CampaignConfig:
    """A pack with no knobs only has code-change ideas: offline, it runs its baseline and a
    paper on it when `baseline_paper` asks for that (saying so, and that the ideas asked for
    need a model), and nothing otherwise."""
    offline_code = is_offline(config.models.for_role("code"))
    if template.manifest.search_space or not offline_code:
        if config.baseline_paper:
            raise ConfigError("--baseline-paper is for offline campaigns on packs with no knobs")
        return config
    if not config.baseline_paper:
        raise ConfigError(
            f"pack '{template.name}' has no knobs: its ideas are code changes, which need a "
            "model (--llm MODEL)",
            hint="or add --baseline-paper to run its baseline and write and review a paper "
            "on it offline",
        )
    asked = config.max_ideas
    print(
        f"pack '{template.name}' has no knobs: offline, only the baseline paper is written; "
        f"{asked} idea{'s' if asked != 1 else ''} need{'' if asked != 1 else 's'} a model "
        "(--llm MODEL)"
    )
    return config.model_copy(update={"max_ideas": 1})


def check_prices(config: CampaignConfig) -> None:
    """Refuse a budget that could not hold: a paid model without a price costs $0."""
    unpriced = unpriced_models(config.models)
    if config.budget_usd is None or not unpriced or config.models.allow_unpriced:
        return
    raise ConfigError(
        f"{', '.join(unpriced)} has no price, so budget_usd cannot be enforced",
        hint='add models.prices = { "<model>" = [input, output] } (USD per 1M tokens), '
        "or pass --allow-unpriced",
    )


def resume_campaign(
    root: Path, *, quiet: bool = False, budget_usd: float | None = None, repay: bool = False
) -> Campaign:
    """Continue a campaign from its last checkpoint, or from where its budget paused it
    (`budget_usd` raises the budget first). The models are checked, and a STOP file, a pause
    note, what writes cut short by a kill left behind, and the campaign's runs that outlived
    it are cleared first. A journal that lost calls the ledger lists is refused unless
    `repay` accepts paying for them again. A campaign another process runs is refused."""
    campaign = Campaign.open(root)
    with campaign.running():
        _continue(campaign, quiet=quiet, budget_usd=budget_usd, repay=repay)
    return campaign


def _continue(campaign: Campaign, *, quiet: bool, budget_usd: float | None, repay: bool) -> None:
    check_prices(campaign.config)
    if budget_usd is not None:
        spent = campaign.spent_usd()
        if budget_usd <= spent:
            raise ConfigError(
                f"--budget-usd {budget_usd:g} is not above what {campaign.name} spent "
                f"(${spent:.4f})",
                hint="pass a larger budget",
            )
        campaign.update_config(budget_usd=budget_usd)
    campaign.stop_file.unlink(missing_ok=True)
    campaign.remove_partial_writes()
    check_journal(campaign, repay=repay)
    ctx = open_context(campaign)
    try:
        ctx.llm.check_models()
    except BaseException:
        ctx.close()
        raise
    pause = read_pause(campaign)
    clear_pause(campaign)
    ended = end_orphans(ctx.sandbox)
    if ended:
        print(f"{campaign.name}: ended {len(ended)} run(s) a kill left behind")
    scratch = remove_stale_scratch(campaign.name)
    if scratch:
        print(f"{campaign.name}: removed {len(scratch)} run scratch folder(s) a kill left behind")
    drive(ctx, None, quiet=quiet, finishing=pause.held if pause else ())


def drive(
    ctx: Context,
    graph_input: dict[str, Any] | None,
    *,
    quiet: bool,
    finishing: Iterable[str] = (),
) -> CampaignState:
    """Stream the graph to its end (or a stop), showing progress; returns the final state.
    `finishing`: the steps a budget pause held, run again first."""
    config = _thread(ctx)
    progress = CampaignProgress(ctx.campaign, quiet=quiet)
    scheduler = Scheduler(ctx, on_event=progress.job, finishing=finishing)
    try:
        with open_checkpointer(ctx.campaign) as saver:
            graph = build_graph(ctx, scheduler, saver)
            if graph_input is None:
                if not graph.get_state(config).values:
                    raise CampaignError(
                        f"{ctx.campaign.checkpoints} holds no checkpoint (deleted or emptied), "
                        "so there is nothing to resume",
                        hint="restore it from a copy (status, ideas and view still read the "
                        f"archive), or start afresh: scientist run --config "
                        f"{ctx.campaign.root / Campaign.CONFIG} --campaign NEW_FOLDER",
                    )
                if adopt_batch_checkpoint(ctx, graph, config):
                    print(f"{ctx.campaign.name}: resuming a batch-scheduled campaign")
                _reopen_if_stopped(ctx, graph, config)
                snapshot = graph.get_state(config)
                # .tasks, not .next: a task that ended just before a kill is not in .next,
                # but its writes are still to be applied
                if snapshot.values and not snapshot.tasks:
                    done = ideas_started(ctx.campaign, snapshot.values)
                    name = ctx.campaign.name
                    print(f"{name}: already finished (ideas done: {done}); nothing to do")
                    return snapshot.values
            try:
                # sync: a step's checkpoint is on disk before the next step starts the
                # work it decided, so a kill never leaves work the checkpoint does not know
                with progress, noting_interrupts(scheduler):
                    events = graph.stream(
                        graph_input, config, stream_mode="tasks", durability="sync"
                    )
                    for event in events:
                        progress.handle(event)
            except BudgetExceeded as exc:
                held = scheduler.held or {"": exc}
                _pause(ctx, held, scheduler.reserved or {"": exc.estimate_usd or 0.0})
            return graph.get_state(config).values
    finally:
        scheduler.close()
        ctx.close()


@contextmanager
def noting_interrupts(scheduler: Scheduler) -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt as usual and also tells the scheduler, which raises it
    again at its next call, so that no code the signal happens to interrupt (a library that
    waits for its workers) can swallow it and let the campaign run on."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: FrameType | None) -> None:
        scheduler.interrupted = True
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _pause(ctx: Context, held: dict[str, BudgetExceeded], reserved: dict[str, float]) -> None:
    """The budget paused the `held` steps: note it (`pause.json`) with what each is
    `reserved`, rewrite the report, say how to go on."""
    campaign = ctx.campaign
    pause = record_pause(campaign, held, reserved)
    write_report(campaign, ctx.template, read_state(campaign).get("baseline"), campaign.archive())
    print(f"{campaign.name}: {pause.describe()}: {pause.message}")
    print(f"continue with: {pause.how_to_continue(campaign)}")


def _thread(ctx: Context) -> dict[str, Any]:
    """The campaign's thread, with room for every scheduler call: at most one per job
    (three steps and an ideation per idea), and a few more for pauses and stops."""
    return {**thread_of(ctx.campaign), "recursion_limit": 20 + 6 * ctx.config.max_ideas}


def _reopen_if_stopped(ctx: Context, graph: Any, config: dict[str, Any]) -> None:
    """A campaign that ended on a STOP file (or budget) continues from `archive` on resume."""
    snapshot = graph.get_state(config)
    values = snapshot.values
    if snapshot.next or not values.get("stop_reason"):
        return
    if ideas_started(ctx.campaign, values) < ctx.config.max_ideas:
        graph.update_state(config, {"stop_reason": None, "dry": False}, as_node="archive")
