"""The view's pages: every path the site answers, rendered from one campaign.

Paths are relative and the same for the live server and the static export:

    index.html              leaderboard, lineage graph, plots, model pool
    ideas/<id>.html         one idea: hypothesis, runs, diffs (against the pack and its
                            parent), figures, paper, reviews, search tree
    compare/<a>/<b>.html    two ideas side by side: metrics, per seed, the code between them
    compare/<a>/control.html  an idea and the control its effect was measured against
                            (served only: a static copy would need a page per pair)
    plots/<name>.svg        the plots
    static/<file>           stylesheet and script shipped with the package
    files/<path>            a file of the campaign directory, confined to it

Rendered pages are cached against the campaign's `version()`, so a page is drawn again only
after the campaign changed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer

from scientist.campaign import Campaign
from scientist.errors import PathRefused
from scientist.report import describe_effect
from scientist.view import graphs, plots
from scientist.view.activity import elapsed
from scientist.view.compare import CONTROL, best, code_between, compare, control_side, idea_side
from scientist.view.snapshot import CampaignReader, IdeaDetail, Overview

IDEA_PAGE = re.compile(r"ideas/([^/]+)\.html")
COMPARE_PAGE = re.compile(r"compare/([^/]+)/([^/]+)\.html")
FILES = "files/"
STATIC_FILES = {"view.css": "text/css", "view.js": "text/javascript"}
DIFF_FORMAT = HtmlFormatter(cssclass="diff", wrapcode=True)
DIFF_CSS = "static/diff.css"
PLOTS: dict[str, Callable[[Overview], bytes]] = {
    "plots/metric.svg": lambda overview: plots.metric_over_time(
        overview.entries, overview.metric, overview.goal, overview.baseline
    ),
    "plots/scores.svg": lambda overview: plots.scores_by_generation(overview.entries),
    "plots/cost.svg": lambda overview: plots.cost_over_time(overview.ledger),
}


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str


class Site:
    """The pages of one campaign; `live` pages poll for changes and reload themselves."""

    def __init__(self, campaign: Campaign, *, live: bool) -> None:
        self.reader = CampaignReader(campaign)
        self.live = live
        self._templates = Environment(
            loader=PackageLoader("scientist.view"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates.filters["number"] = _number
        self._templates.filters["diff"] = _highlight_diff
        self._templates.filters["effect"] = describe_effect
        self._templates.filters["elapsed"] = elapsed
        self._templates.filters["clock"] = _clock
        self._static = _static_pages()
        self._cache: dict[str, tuple[str, Page]] = {}
        self._overview: tuple[str, Overview] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ routing
    def page(self, path: str) -> Page | None:
        """The page at `path`, or None when there is none."""
        if path in self._static:
            return self._static[path]
        idea = IDEA_PAGE.fullmatch(path)
        version = self.reader.version(idea.group(1) if idea else None)
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        page = self._render(path, version)
        if page is not None:
            with self._lock:
                self._cache[path] = (version, page)
        return page

    def _render(self, path: str, version: str) -> Page | None:
        if path == "index.html":
            return self._index(version)
        if path in PLOTS:
            return Page(PLOTS[path](self.overview(version)), "image/svg+xml")
        idea = IDEA_PAGE.fullmatch(path)
        if idea:
            return self._idea(idea.group(1), version)
        pair = COMPARE_PAGE.fullmatch(path)
        return self._compare(pair.group(1), pair.group(2), version) if pair else None

    def overview(self, version: str) -> Overview:
        """The campaign-level view, read once per version (the index and its plots share it)."""
        with self._lock:
            if self._overview is not None and self._overview[0] == version:
                return self._overview[1]
        overview = self.reader.overview()
        with self._lock:
            self._overview = (version, overview)
        return overview

    def paths(self) -> list[str]:
        """Every page, for the static export."""
        ideas = [f"ideas/{entry.id}.html" for entry in self.reader.archive()]
        return ["index.html", *PLOTS, *self._static, *ideas]

    def campaign_file(self, relative: str) -> Path | None:
        """The campaign's file at `relative`, or None when there is none; a path that leads
        outside the campaign directory (`..`, an absolute path, a link) is refused."""
        root = self.reader.root
        try:
            target = (root / relative).resolve()
        except (OSError, ValueError):
            raise PathRefused(f"refused: {relative!r}") from None
        if not target.is_relative_to(root):
            raise PathRefused(f"refused: {relative!r} is outside the campaign")
        return target if target.is_file() else None

    # ------------------------------------------------------------------ pages
    def _index(self, version: str) -> Page:
        overview = self.overview(version)
        lineage = graphs.lineage_svg(overview.entries, overview.kinds, "ideas/{}.html")
        return self._html(
            "index.html", version, root="", overview=overview, lineage=Markup(lineage)
        )

    def _idea(self, idea_id: str, version: str) -> Page | None:
        detail = self.reader.idea(idea_id)
        if detail is None:
            return None
        search = graphs.search_svg(detail.search, detail.best_run) if detail.search else ""
        parent = next((p for p in map(self.reader.idea, detail.entry.idea.parents) if p), None)
        parent_code = None
        if parent is not None:
            own, theirs = best(detail), best(parent)
            parent_code = code_between(
                self.reader.template.root, theirs.diff if theirs else "", own.diff if own else ""
            )
        return self._html(
            "idea.html",
            version,
            root="../",
            overview=self.overview(self.reader.version()),
            idea=detail,
            search=Markup(search),
            parent=parent.entry.id if parent else None,
            parent_code=parent_code,
            overrides=json.dumps(detail.entry.idea.overrides, indent=2, sort_keys=True),
        )

    def _compare(self, first: str, second: str, version: str) -> Page | None:
        """Two ideas, or an idea and its control (`second` is CONTROL)."""
        detail = self.reader.idea(first)
        if detail is None:
            return None
        if second == CONTROL:
            other = control_side(self.reader, detail.entry)
        else:
            other_detail = self.reader.idea(second)
            other = idea_side(other_detail) if other_detail else None
        if other is None:
            return None
        metric = self.reader.template.metric.name
        pack = self.reader.template.root
        comparison = compare(pack, idea_side(detail), other, metric)
        return self._html(
            "compare.html",
            version,
            root="../../",
            overview=self.overview(version),
            comparison=comparison,
        )

    def _html(self, template: str, version: str, **context: object) -> Page:
        html = self._templates.get_template(template).render(
            live=self.live, version=version, **context
        )
        return Page(html.encode(), "text/html; charset=utf-8")


def linked_files(detail: IdeaDetail) -> list[str]:
    """The campaign files an idea's page links to (copied by the static export)."""
    logs = [log for run in detail.runs for log in run.logs]
    return [*([detail.pdf] if detail.pdf else []), *detail.figures, *logs]


def _static_pages() -> dict[str, Page]:
    """The stylesheets and script, the same for every campaign and version."""
    folder = resources.files("scientist.view").joinpath("static")
    pages = {
        f"static/{name}": Page(folder.joinpath(name).read_bytes(), content_type)
        for name, content_type in STATIC_FILES.items()
    }
    pages[DIFF_CSS] = Page(DIFF_FORMAT.get_style_defs(".diff").encode(), "text/css")
    return pages


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _highlight_diff(diff: str) -> Markup:
    return Markup(highlight(diff, DiffLexer(), DIFF_FORMAT))
