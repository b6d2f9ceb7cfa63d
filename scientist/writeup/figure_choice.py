"""Which figures go into the paper's body: the pack's declared main figures, else the most
relevant few. The rest are kept beside the paper in `supplementary/`, never printed, so a
pack that draws many plots cannot push the paper past its page limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scientist.models import Idea
from scientist.records.figures import Figure

SUPPLEMENTARY = "supplementary"


def _words(text: str) -> set[str]:
    return {word for word in re.split(r"[^a-z0-9]+", text.lower()) if len(word) > 1}


def relevance_terms(metric: str, idea: Idea) -> set[str]:
    """Words that make a figure relevant: the metric, the idea's knobs and its title."""
    return _words(metric) | _words(" ".join(idea.overrides)) | _words(idea.title)


def choose_figures(
    figures: list[Figure], *, main: list[str], limit: int, terms: Iterable[str]
) -> tuple[list[Figure], list[Figure]]:
    """(body, supplementary): the declared `main` figures in their order when the pack names
    any, else the `limit` figures sharing the most words with `terms` (ties: name order)."""
    if main:
        by_name = {name: figure for figure in figures for name in figure.names}
        named = [by_name[name] for name in dict.fromkeys(main) if name in by_name]
        body = list({id(figure): figure for figure in named}.values())[:limit]
    else:
        wanted = set(terms)
        ranked = sorted(figures, key=lambda figure: -len(_words(figure.name) & wanted))
        chosen = {figure.name for figure in ranked[:limit]}
        body = [figure for figure in figures if figure.name in chosen]
    return body, [figure for figure in figures if figure not in body]


def missing_main_figures(figures: list[Figure], main: list[str]) -> list[str]:
    """Declared main figures the plot script did not draw (a copy of a drawn one was)."""
    drawn = {name for figure in figures for name in figure.names}
    return [name for name in main if name not in drawn]
