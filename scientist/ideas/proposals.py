"""Propose a generation of ideas, exactly once per generation even across crashes.

Offline, generation 0 is the pack's seed ideas (topped up by breeding when there are too
few) and later generations are bred. With an ideas model, the model proposes from generation
0 on: the seed ideas are context in its prompt and fill at most all but one slot of
generation 0. When the ideas model fails for good (output that never validates, a provider
that stays down), the generation is proposed as offline, from the unused seed ideas and
breeding, and the failure goes to the campaign log. A `baseline_paper` campaign (offline,
on a pack with no knobs) has one idea: the pack as is.
Idea ids are `<generation>_<k>_<name>`; a generation already in `archive.jsonl` (written
before a crash) is reused, never proposed again: its ideas come back as proposed (one that
a lost checkpoint had selected never ran, since the scheduler starts only what it has
checkpointed). A model's proposal that repeats an idea of the campaign is recorded as a
`duplicate` (with the idea it repeats) and never run.
"""

from __future__ import annotations

from scientist.atomic_files import atomic_write_text
from scientist.context import Context
from scientist.errors import LLMError
from scientist.ideas.breeding import breed_ideas
from scientist.ideas.duplicates import Duplicate
from scientist.ideas.generate import generate_ideas
from scientist.manifest import TemplateManifest
from scientist.models import ArchiveEntry, ExperimentRun, Idea


def propose_ideas(
    ctx: Context,
    archive: list[ArchiveEntry],
    baseline: ExperimentRun,
    generation: int,
    wanted: int,
) -> list[ArchiveEntry]:
    """New `proposed` entries for `generation` (recorded in the archive and idea.json)."""
    recorded = [e for e in ctx.campaign.archive() if e.idea.generation == generation]
    if recorded:
        unrun = [e for e in recorded if e.status in ("proposed", "selected")]
        return [e.model_copy(update={"status": "proposed"}) for e in unrun]
    count = max(1, min(wanted, ctx.config.max_parallel))
    seeds = ctx.template.seed_ideas() if generation == 0 else []
    if ctx.config.baseline_paper:
        ideas = [_unchanged_pack(ctx.template.manifest)] if generation == 0 else []
    elif ctx.model("ideas") is not None:
        ideas = seeds[: count - 1]
    else:
        ideas = seeds[:wanted]
    repeats: list[Duplicate] = []
    if len(ideas) < count:
        try:
            fresh, repeats = _fresh(ctx, archive, baseline, generation, count - len(ideas))
        except LLMError as exc:  # the ideas model failed for good: the offline strategy proposes
            ctx.campaign.log_failure(f"ideas model, generation {generation}", exc)
            unused = [seed for seed in seeds if seed not in ideas]
            offline = unused + _bred(ctx, archive, baseline, generation, count)
            fresh = offline[: count - len(ideas)]
        ideas += fresh
    entries = [_entry(ctx, generation, k, idea) for k, idea in enumerate(ideas)]
    rejected = [
        _entry(ctx, generation, k, repeat.idea).model_copy(
            update={"status": "duplicate", "error": f"repeats {repeat.of}"}
        )
        for k, repeat in enumerate(repeats, start=len(ideas))
    ]
    for entry in [*entries, *rejected]:
        ctx.campaign.record_idea(entry)
    return entries


def _entry(ctx: Context, generation: int, k: int, idea: Idea) -> ArchiveEntry:
    """The archive entry of the generation's `k`-th idea, its idea.json written."""
    idea = idea.model_copy(update={"generation": generation})
    entry = ArchiveEntry(id=f"{generation}_{k}_{idea.name}", idea=idea)
    idea_dir = ctx.campaign.idea_dir(entry.id)
    idea_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(idea_dir / "idea.json", idea.model_dump_json(indent=2))
    return entry


def _fresh(
    ctx: Context,
    archive: list[ArchiveEntry],
    baseline: ExperimentRun,
    generation: int,
    count: int,
) -> tuple[list[Idea], list[Duplicate]]:
    """New ideas from the ideas model (and its proposals that repeated one), else bred."""
    model = ctx.model("ideas")
    if model is not None:
        return generate_ideas(ctx, model, archive, baseline, count)
    return _bred(ctx, archive, baseline, generation, count), []


def _bred(
    ctx: Context, archive: list[ArchiveEntry], baseline: ExperimentRun, generation: int, count: int
) -> list[Idea]:
    defaults = baseline.final_info.config if baseline.final_info else {}
    return breed_ideas(
        ctx.template.manifest,
        archive,
        defaults=defaults,
        generation=generation,
        count=count,
        seed=sum(ctx.config.seeds),
    )


def _unchanged_pack(manifest: TemplateManifest) -> Idea:
    metric = manifest.metric.name
    return Idea(
        name="baseline",
        title=f"{manifest.title}: the baseline",
        hypothesis=f"The unchanged pack's {metric} reproduces when it is run again.",
        plan=f"Run {manifest.entrypoint} unchanged beside the baseline and report {metric}.",
        feasibility=10,
        origin="offline",
    )
