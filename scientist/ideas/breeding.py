"""Offline ideation: breed new ideas from the best archived ones within the search space.

Parents are chosen by fitness (tournament selection over finished ideas); a child is a
mutation of one parent's overrides, or a crossover of two, kept inside the pack's declared
`search_space`. Titles and hypotheses say in words what changed against the parent.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from scientist.models import ArchiveEntry, Idea
from scientist.templates import Choice, Knob, Range, TemplateManifest

MAX_TRIES = 50


def breed_ideas(
    manifest: TemplateManifest,
    archive: list[ArchiveEntry],
    *,
    defaults: dict[str, Any],
    generation: int,
    count: int,
    seed: int = 0,
) -> list[Idea]:
    """`count` new ideas whose overrides differ from every idea already in `archive`."""
    rng = random.Random(f"{seed}:{generation}")
    finished = [
        e for e in archive if e.status == "done" and e.improvement is not None and e.may_parent
    ]
    seen = {_key(e.idea.overrides) for e in archive} | {_key({})}
    ideas: list[Idea] = []
    for _ in range(count * MAX_TRIES):
        if len(ideas) == count:
            break
        parents = _choose_parents(finished, rng)
        base = dict(parents[0].idea.overrides) if parents else {}
        if len(parents) == 2:
            base = _crossover(base, parents[1].idea.overrides, rng)
        child = _mutate(base, manifest.search_space, rng)
        if _key(child) in seen:
            continue
        seen.add(_key(child))
        ideas.append(_as_idea(manifest, child, parents, defaults, generation))
    return ideas


def _choose_parents(finished: list[ArchiveEntry], rng: random.Random) -> list[ArchiveEntry]:
    if not finished:
        return []
    count = 2 if len(finished) >= 2 and rng.random() < 0.3 else 1
    parents: list[ArchiveEntry] = []
    for _ in range(count):
        contenders = rng.sample(finished, k=min(3, len(finished)))
        parents.append(max(contenders, key=lambda entry: entry.fitness))
    return parents if len(parents) == 1 or parents[0].id != parents[1].id else parents[:1]


def _crossover(first: dict[str, Any], second: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    child = {}
    for knob in sorted(set(first) | set(second)):
        source = first if rng.random() < 0.5 else second
        if knob in source:
            child[knob] = source[knob]
    return child


def _mutate(
    overrides: dict[str, Any], space: dict[str, Knob], rng: random.Random
) -> dict[str, Any]:
    child = dict(overrides)
    knobs = rng.sample(sorted(space), k=min(len(space), rng.choice([1, 1, 2])))
    for knob in knobs:
        child[knob] = _new_value(space[knob], child.get(knob), rng)
    return child


def _new_value(knob: Knob, current: Any, rng: random.Random) -> Choice:
    if isinstance(knob, list):
        options = [choice for choice in knob if choice != current] or knob
        return rng.choice(options)
    return _sample_range(knob, current, rng)


def _sample_range(knob: Range, current: Any, rng: random.Random) -> float | int:
    if current is None or rng.random() < 0.3:
        if knob.log:
            value = math.exp(rng.uniform(math.log(knob.low), math.log(knob.high)))
        else:
            value = rng.uniform(knob.low, knob.high)
    elif knob.log:
        value = float(current) * math.exp(rng.gauss(0, 0.7))
    else:
        value = float(current) + rng.gauss(0, 0.2 * (knob.high - knob.low))
    value = min(knob.high, max(knob.low, value))
    if knob.integer:
        return round(value)
    return float(f"{value:.3g}")


def describe_change(knob: str, before: Any, after: Any) -> str:
    """'Raising lr from 0.01 to 0.1' / 'Switching mode from a to b' / 'Setting lr to 0.1'."""
    if before is None:
        return f"Setting {knob} to {after}"
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after))
    if numeric:
        verb = "Raising" if after > before else "Lowering"
        return f"{verb} {knob} from {before} to {after}"
    return f"Switching {knob} from {before} to {after}"


def _as_idea(
    manifest: TemplateManifest,
    overrides: dict[str, Any],
    parents: list[ArchiveEntry],
    defaults: dict[str, Any],
    generation: int,
) -> Idea:
    reference = dict(defaults)
    if parents:
        reference.update(parents[0].idea.overrides)
    changed = [k for k in sorted(overrides) if reference.get(k) != overrides[k]]
    changes = [describe_change(k, reference.get(k), overrides[k]) for k in changed]
    lineage = f"the parent idea '{parents[0].idea.name}'" if parents else "the pack's baseline"
    metric = manifest.metric
    direction = "higher" if metric.goal == "maximize" else "lower"
    clauses = [
        change if i == 0 else change[0].lower() + change[1:] for i, change in enumerate(changes)
    ]
    sentence = "; ".join(clauses) or "Re-running the parent configuration"
    return Idea(
        name=_slug(changed, overrides),
        title=sentence[0].upper() + sentence[1:],
        hypothesis=(f"{sentence} relative to {lineage} gives a {direction} {metric.name}."),
        plan=(
            f"Run {manifest.entrypoint} with overrides {overrides} on every seed and compare "
            f"the mean {metric.name} with the baseline."
        ),
        interestingness=5,
        feasibility=9,
        novelty=min(10, 3 + 2 * len(changed)),
        overrides=overrides,
        parents=[parent.id for parent in parents],
        generation=generation,
        origin="offline",
    )


def _slug(changed: list[str], overrides: dict[str, Any]) -> str:
    parts = [f"{knob}_{overrides[knob]}" for knob in changed] or ["repeat"]
    slug = re.sub(r"[^a-z0-9]+", "_", "_".join(parts).lower().replace(".", "p")).strip("_")
    return slug[:48].strip("_") or "variant"


def _key(overrides: dict[str, Any]) -> str:
    return repr(sorted(overrides.items()))
