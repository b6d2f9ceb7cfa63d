"""LLM ideation: propose ideas from the pack and the archive, reflect, check novelty.

The prompt carries the pack's description, structure (file tree, entrypoint, outlines of
its modules) and search space, its seed ideas, the archive with each idea's metric, review
score and the reviewers' weaknesses, so reviews steer what is proposed next, and the ideas
still waiting or running. A proposal that repeats an idea the campaign has
(`duplicates`) is named in the reflection round, which is asked to replace it; one still
repeated after it is not run, and is returned as a duplicate. Novelty is checked against the
literature client; when the literature service is unreachable the idea stays `unchecked`
and the campaign goes on.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from scientist.context import Context
from scientist.errors import LiteratureUnavailable
from scientist.experiments.pack_view import PackView
from scientist.ideas.duplicates import Duplicate, split_duplicates
from scientist.llm import Message, RoleModel
from scientist.models import ArchiveEntry, ExperimentRun, Idea
from scientist.prompts import render_prompt
from scientist.report import leaderboard
from scientist.stats import number

REFLECTIONS = 1
FINISHED = ("done", "failed", "no_effect", "needs_code_model")
PACK_CHARS = 24000


class IdeaProposal(BaseModel):
    name: str
    title: str
    hypothesis: str
    plan: str
    interestingness: int = Field(ge=1, le=10)
    feasibility: int = Field(ge=1, le=10)
    novelty: int = Field(ge=1, le=10)
    overrides: dict[str, str | int | float | bool | list[int]] = Field(default_factory=dict)


class IdeaBatch(BaseModel):
    ideas: list[IdeaProposal] = Field(min_length=1)


class NoveltyVerdict(BaseModel):
    novel: bool
    reason: str


def generate_ideas(
    ctx: Context,
    model: RoleModel,
    archive: list[ArchiveEntry],
    baseline: ExperimentRun,
    count: int,
) -> tuple[list[Idea], list[Duplicate]]:
    """Up to `count` new ideas from the ideas model, after `REFLECTIONS` rounds of
    self-critique, and the proposals that repeated an idea of the campaign."""
    template = ctx.template
    recorded = ctx.campaign.archive()
    known = [(entry.id, entry.idea) for entry in recorded]
    manifest = template.manifest
    request = render_prompt(
        "ideas/propose",
        title=manifest.title,
        description=manifest.description,
        metric=manifest.metric.name,
        goal=manifest.metric.goal,
        baseline_metric=baseline.metric(manifest.metric.name),
        search_space=_space(ctx) or "None: every idea is a code change (leave overrides empty).",
        pack=PackView(template, template.root).overview()[:PACK_CHARS],
        seeds="\n".join(f"- {i.name}: {i.title}" for i in template.seed_ideas()) or "None.",
        archive=_archive(archive) or "None yet.",
        pending=_pending(recorded) or "None.",
        count=count,
    )
    messages = [
        Message(role="system", content=render_prompt("ideas/system")),
        Message(role="user", content=request),
    ]
    completion = model.complete(messages, schema=IdeaBatch)
    batch = completion.parsed
    for round_ in range(1, REFLECTIONS + 1):
        _, repeats = split_duplicates(_ideas(batch, completion.call_id), known)
        reflect = render_prompt(
            "ideas/reflect",
            round=round_,
            count=count,
            ideas=batch.model_dump_json(),
            duplicates=_repeats(repeats),
        )
        messages += [
            Message(role="assistant", content=batch.model_dump_json()),
            Message(role="user", content=reflect),
        ]
        completion = model.complete(messages, schema=IdeaBatch)
        batch = completion.parsed
    ideas, repeats = split_duplicates(_ideas(batch, completion.call_id), known)
    return [_check_novelty(ctx, model, idea) for idea in ideas[:count]], repeats


def _ideas(batch: IdeaBatch, call_id: str) -> list[Idea]:
    return [Idea(**p.model_dump(), origin="llm", proposed_by=call_id) for p in batch.ideas]


def _repeats(repeats: list[Duplicate]) -> str:
    """What the reflection round is told about the proposals that repeat an idea."""
    if not repeats:
        return ""
    lines = [f"- {d.idea.name} repeats {d.of}: replace it with a different idea" for d in repeats]
    return "These proposals repeat ideas the campaign already has, and would not run:\n" + (
        "\n".join(lines) + "\n\n"
    )


def _check_novelty(ctx: Context, model: RoleModel, idea: Idea) -> Idea:
    query = idea.title
    try:
        papers = ctx.literature.search(query, limit=5)
    except LiteratureUnavailable:
        return idea.model_copy(update={"novelty_status": "unchecked"})
    if not papers:
        return idea.model_copy(update={"novelty_status": "novel"})
    listing = "\n".join(
        f"- {p.title} ({p.year or 'n.d.'}): {(p.abstract or '')[:400]}" for p in papers
    )
    request = render_prompt(
        "ideas/novelty", title=idea.title, hypothesis=idea.hypothesis, query=query, papers=listing
    )
    verdict = model.complete([Message(role="user", content=request)], schema=NoveltyVerdict).parsed
    return idea.model_copy(update={"novelty_status": "novel" if verdict.novel else "not_novel"})


def _space(ctx: Context) -> str:
    lines = []
    for knob, spec in ctx.template.manifest.search_space.items():
        shown = spec if isinstance(spec, list) else spec.model_dump()
        lines.append(f"- {knob}: {json.dumps(shown)}")
    return "\n".join(lines)


def _pending(recorded: list[ArchiveEntry]) -> str:
    """The ideas of the campaign waiting for a slot or running, one line each."""
    return "\n".join(
        f"- {e.id} ({e.idea.title}; overrides {e.idea.overrides}): {e.idea.hypothesis}"
        for e in recorded
        if e.status in ("proposed", "selected", "running")
    )


def _archive(archive: list[ArchiveEntry]) -> str:
    lines = []
    for entry in leaderboard([e for e in archive if e.status in FINISHED]):
        review = "" if entry.review_score is None else f", review {entry.review_score:.1f}"
        result = "failed" if entry.status == "failed" else f"metric {entry.metric}"
        effect = (
            ""
            if entry.effect is None
            else f", effect vs its control {number(entry.effect.mean, '+.4g')}"
        )
        no_effect = " (no effect: identical to its control)" if entry.status == "no_effect" else ""
        lines.append(
            f"- {entry.idea.name} ({entry.idea.title}; overrides {entry.idea.overrides}): "
            f"{result}, improvement {entry.improvement}{effect}{review}{no_effect}"
        )
        lines += [f"    weakness: {w}" for w in entry.weaknesses[:3]]
        if not entry.may_parent:
            lines.append("    score_mismatch: its code reported a score the pack's grader refutes")
    return "\n".join(lines)
