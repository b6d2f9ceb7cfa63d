"""The lineage graph and the tree-search tree, laid out by Graphviz `dot` as inline SVG.

`dot` is a layered layout made for directed acyclic graphs: it ranks nodes (generations,
tree depth) and orders each rank to keep edges from crossing, which is what a family tree
of ideas needs. Every node is an SVG group with class `node` and an id naming its idea or
search node; idea nodes link to their pages.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import graphviz
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from scientist.errors import ViewError
from scientist.models import ArchiveEntry, SearchNodeRecord
from scientist.view.snapshot import IdeaKind

COLOURS = colormaps["viridis"]
UNSCORED = "#d9d9d9"
SHAPES: dict[IdeaKind, str] = {"code": "box", "settings": "ellipse"}


def require_dot() -> None:
    """Raise a ViewError naming the fix when Graphviz's `dot` is not installed."""
    if shutil.which("dot") is None:
        raise ViewError(
            "the campaign view lays out its graphs with Graphviz, and `dot` is not on PATH",
            hint="install Graphviz (Debian: apt-get install graphviz)",
        )


def score_colour(value: float | None, low: float, high: float) -> tuple[str, str]:
    """(fill, text colour) for a score on [low, high]; grey when there is none."""
    if value is None:
        return UNSCORED, "#000000"
    red, green, blue, _ = COLOURS(Normalize(low, high, clip=True)(value))
    text = "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "#ffffff"
    return to_hex((red, green, blue)), text


def lineage_svg(entries: list[ArchiveEntry], kinds: dict[str, IdeaKind], link: str) -> str:
    """Parents above children, one node per idea coloured by its review score (1-10);
    boxes changed the pack's code, ellipses only its settings. `link` formats a node's URL
    from the idea id."""
    graph = _digraph("lineage")
    known = {entry.id for entry in entries}
    for entry in sorted(entries, key=lambda e: e.id):
        fill, text = score_colour(entry.review_score, 1, 10)
        score = "—" if entry.review_score is None else f"{entry.review_score:.1f}"
        graph.node(
            entry.id,
            f"{entry.idea.name}\n{score}",
            id=f"idea-{entry.id}",
            shape=SHAPES[kinds.get(entry.id, "settings")],
            style="filled,dashed" if entry.status == "failed" else "filled",
            fillcolor=fill,
            fontcolor=text,
            href=link.format(entry.id),
            tooltip=f"{entry.idea.title} (generation {entry.idea.generation}, {entry.status})",
        )
        for parent in entry.idea.parents:
            if parent in known:
                graph.edge(parent, entry.id)
    return _render(graph)


def search_svg(nodes: list[SearchNodeRecord], best: int | None) -> str:
    """The tree of a code tree search: the pack's code on top, each node labelled with its
    number, the model that wrote it and its score (0-1, colour); nodes that never ran are
    dashed, the idea's chosen run is drawn bold."""
    graph = _digraph("search")
    graph.node("pack", "pack code", id="search-pack", shape="plaintext")
    for node in nodes:
        fill, text = score_colour(node.score, 0, 1)
        style = "filled" + ("" if node.ran else ",dashed") + (",bold" if node.node == best else "")
        graph.node(
            str(node.node),
            f"node {node.node}\n{node.model}\n{node.score:.2f}",
            id=f"search-node-{node.node}",
            shape="box",
            style=style,
            fillcolor=fill,
            fontcolor=text,
            tooltip=node.note or f"run_{node.node}",
        )
        graph.edge("pack" if node.parent is None else str(node.parent), str(node.node))
    return _render(graph)


def _digraph(name: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name, format="svg")
    graph.attr(rankdir="TB", bgcolor="transparent", nodesep="0.25", ranksep="0.45")
    graph.attr("node", fontname="Helvetica", fontsize="10", margin="0.08,0.04")
    graph.attr("edge", color="#777777", arrowsize="0.6")
    return graph


def _render(graph: graphviz.Digraph) -> str:
    return _layout(graph.name, graph.source)


@functools.lru_cache(maxsize=256)
def _layout(name: str, source: str) -> str:
    """The SVG element alone (no XML prolog), ready to inline in a page; laid out once per
    distinct graph, so a campaign change that leaves the graph as it was costs nothing."""
    try:
        svg = graphviz.pipe("dot", "svg", source.encode(), quiet=True).decode()
    except (graphviz.ExecutableNotFound, subprocess.CalledProcessError) as exc:
        raise ViewError(f"Graphviz could not lay out the {name} graph: {exc}") from None
    return svg[svg.index("<svg") :]
