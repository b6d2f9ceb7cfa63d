"""Is a proposed idea one the campaign already has (proposed, waiting, running or finished)?

Two ideas are the same when they propose the same overrides with the same intent (their
plans share most of their words), or when their titles and hypotheses are near-identical.
Words are compared as sets, shared words over all words, so rewording, reordering and
repetition do not hide a copy and no embedding service is needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scientist.models import Idea

SAME_TEXT = 0.8  # title and hypothesis: at least this share of their words in common
SAME_PLAN = 0.5  # the plans of two ideas with equal overrides
_STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it",
    "its", "of", "on", "or", "than", "that", "the", "this", "to", "we", "will", "with",
})  # fmt: skip


@dataclass(frozen=True)
class Duplicate:
    """A proposal that repeats the idea `of` (an archive id, or a name in the same batch)."""

    idea: Idea
    of: str


def words(text: str) -> frozenset[str]:
    """The distinct lower-case words and numbers of `text`, without the commonest words."""
    return frozenset(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower())) - _STOP_WORDS


def similarity(a: str, b: str) -> float:
    """The share of their distinct words two texts have in common (1.0 for two empty)."""
    left, right = words(a), words(b)
    union = left | right
    return len(left & right) / len(union) if union else 1.0


def same_idea(a: Idea, b: Idea) -> bool:
    if a.overrides == b.overrides and similarity(a.plan, b.plan) >= SAME_PLAN:
        return True
    return similarity(f"{a.title} {a.hypothesis}", f"{b.title} {b.hypothesis}") >= SAME_TEXT


def split_duplicates(
    proposals: Sequence[Idea], known: Sequence[tuple[str, Idea]]
) -> tuple[list[Idea], list[Duplicate]]:
    """The proposals that repeat none of the `known` (id, idea) pairs nor an earlier
    proposal of the batch, and those that do, each with what it repeats."""
    kept: list[Idea] = []
    repeats: list[Duplicate] = []
    for idea in proposals:
        others = [*known, *((other.name, other) for other in kept)]
        of = next((key for key, other in others if same_idea(idea, other)), None)
        if of is None:
            kept.append(idea)
        else:
            repeats.append(Duplicate(idea, of))
    return kept, repeats
