"""Which ranked ideas the leader is not distinguishable from: the leaderboard ranks by the
gain over the campaign baseline, so two ideas whose 95 % intervals of that gain overlap
may be ranked apart by noise alone."""

from __future__ import annotations

from scientist.models import ArchiveEntry, Effect
from scientist.report import best_idea


def tied_with_leader(entries: list[ArchiveEntry]) -> set[str]:
    """The measured ideas, the leader excepted, whose gain interval overlaps the leader's
    (none when the leader's gain has no interval)."""
    leader = best_idea(entries)
    lead = _interval(leader.gain) if leader is not None else None
    if leader is None or lead is None:
        return set()
    tied = set()
    for entry in entries:
        other = _interval(entry.gain)
        if entry.id == leader.id or entry.status != "done" or other is None:
            continue
        if other[0] <= lead[1] and other[1] >= lead[0]:
            tied.add(entry.id)
    return tied


def _interval(effect: Effect | None) -> tuple[float, float] | None:
    if effect is None or effect.low is None or effect.high is None:
        return None
    return effect.low, effect.high
