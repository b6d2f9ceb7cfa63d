"""Offline ideation: breed new ideas from the best archived ones within the search space.

Parents are chosen by fitness (tournament selection over the ideas that may be parents: measured,
not rejected by the review, not `no_effect`); a child is a mutation of one parent's
overrides, or a crossover of two, kept inside the pack's declared `search_space`. A knob
change that made no difference (a `no_effect` child) is not proposed again from the same
configuration: the rest of the configuration is its context. Titles and hypotheses say in
words what changed against the parent.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from scientist.manifest import Choice, Knob, Range, TemplateManifest
from scientist.models import ArchiveEntry, Idea

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
    """`count` new ideas whose configurations (the defaults with their overrides) differ from
    the baseline's and from every idea's already in `archive`."""
    rng = random.Random(f"{seed}:{generation}")
    finished = [e for e in archive if e.may_parent and e.improvement is not None]
    seen = {_key({**defaults, **e.idea.overrides}) for e in archive} | {_key(defaults)}
    no_ops = learned_no_ops(archive, defaults)
    ideas: list[Idea] = []
    for _ in range(count * MAX_TRIES):
        if len(ideas) == count:
            break
        parents = _choose_parents(finished, rng)
        base = dict(parents[0].idea.overrides) if parents else {}
        if len(parents) == 2:
            base = _crossover(base, parents[1].idea.overrides, rng)
        child = _mutate(base, manifest.search_space, rng)
        reference = {**defaults, **(parents[0].idea.overrides if parents else {})}
        effective = {**defaults, **child}
        if _key(effective) in seen or _known_no_op(reference, effective, no_ops):
            continue
        seen.add(_key(effective))
        ideas.append(_as_idea(manifest, child, parents, defaults, generation))
    return ideas


NoOp = tuple[str, str]
"""A knob, and the rest of the configuration it was changed from without effect."""


def _context(config: dict[str, Any], knob: str) -> str:
    return _key({k: v for k, v in config.items() if k not in (knob, "seeds")})


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(
        k for k in set(before) | set(after) if k != "seeds" and before.get(k) != after.get(k)
    )


def learned_no_ops(archive: list[ArchiveEntry], defaults: dict[str, Any]) -> set[NoOp]:
    """The knob changes that `no_effect` ideas made, each with the configuration it was made
    from (its first parent's, else the baseline's)."""
    by_id = {entry.id: entry for entry in archive}
    no_ops: set[NoOp] = set()
    for entry in archive:
        if entry.status != "no_effect":
            continue
        parent = next((by_id[p] for p in entry.idea.parents if p in by_id), None)
        reference = {**defaults, **(parent.idea.overrides if parent else {})}
        child = {**defaults, **entry.idea.overrides}
        no_ops |= {(knob, _context(reference, knob)) for knob in _changed(reference, child)}
    return no_ops


def _known_no_op(reference: dict[str, Any], child: dict[str, Any], no_ops: set[NoOp]) -> bool:
    """Whether every knob the child changes is a change already seen to have no effect."""
    changed = _changed(reference, child)
    return bool(changed) and all((knob, _context(reference, knob)) in no_ops for knob in changed)


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
