"""Which proposed ideas run next: novel ones first, then by the idea's own scores."""

from __future__ import annotations

from scientist.models import ArchiveEntry


def rank_proposed(entries: list[ArchiveEntry]) -> list[ArchiveEntry]:
    """Proposed entries, best first: not known to be unoriginal, then score, then age."""

    def key(entry: ArchiveEntry) -> tuple[int, int, int, str]:
        idea = entry.idea
        known_old = 1 if idea.novelty_status == "not_novel" else 0
        score = idea.interestingness + idea.feasibility + idea.novelty
        return (known_old, idea.generation, -score, entry.id)

    return sorted((e for e in entries if e.status == "proposed"), key=key)
