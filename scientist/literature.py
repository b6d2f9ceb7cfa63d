"""Semantic Scholar client: paper search and BibTeX, with an on-disk cache.

The `semanticscholar` package does the wire work (its `api_url` points it at any server
speaking the Graph API, a local fake one in tests). Its own retry loop waits up to minutes
on a 429, so it is turned off here: we back off a bounded number of times and then give up
with a clear `LiteratureUnavailable`. Every answer is cached as JSON; a cached query is
answered without the network, and `offline=True` answers from the cache only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field
from semanticscholar import SemanticScholar
from semanticscholar.SemanticScholarException import SemanticScholarException
from tenacity import RetryError

from scientist.atomic_files import atomic_write_json
from scientist.errors import LiteratureUnavailable

SEARCH_FIELDS = [
    "paperId",
    "title",
    "year",
    "authors",
    "venue",
    "abstract",
    "citationCount",
    "citationStyles",
]


class PaperRef(BaseModel):
    """One paper as the literature service describes it."""

    paper_id: str
    title: str
    year: int | None = None
    authors: list[str] = Field(default_factory=list)
    venue: str = ""
    abstract: str | None = None
    citation_count: int | None = None
    bibtex: str | None = None

    @classmethod
    def from_graph(cls, data: dict[str, Any]) -> PaperRef:
        """Build from a Graph API paper object (camelCase keys)."""
        styles = data.get("citationStyles") or {}
        return cls(
            paper_id=data["paperId"],
            title=data.get("title") or "",
            year=data.get("year"),
            authors=[a.get("name", "") for a in data.get("authors") or [] if a.get("name")],
            venue=data.get("venue") or "",
            abstract=data.get("abstract"),
            citation_count=data.get("citationCount"),
            bibtex=styles.get("bibtex"),
        )


def _unwrap_retry(fetch: Callable[[], Any]) -> Any:
    """With retries off the package still wraps failures in tenacity's RetryError: unwrap."""
    try:
        return fetch()
    except RetryError as exc:
        raise exc.last_attempt.exception() from None


class LiteratureClient:
    """Search papers and fetch their BibTeX; cached, rate-limit aware."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 10,
        offline: bool = False,
        max_attempts: int = 3,
        backoff_s: float = 2.0,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.offline = offline
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self._api = SemanticScholar(
            timeout=timeout_s,
            api_key=api_key or os.environ.get("S2_API_KEY"),
            api_url=base_url,
            retry=False,
        )

    # ------------------------------------------------------------------ public
    def search(self, query: str, limit: int = 10) -> list[PaperRef]:
        """Papers matching `query`, best first (at most `limit`, 1..100)."""
        key = self._cache_path("search", f"{limit}:{query}")
        cached = self._read_cache(key)
        if cached is not None:
            return [PaperRef.model_validate(row) for row in cached]

        # the package puts the query into the URL unescaped: keep only what survives that
        wire_query = re.sub(r"[&#=?+%]", " ", query).strip()

        def fetch() -> list[dict[str, Any]]:
            results = self._api.search_paper(wire_query, limit=limit, fields=SEARCH_FIELDS)
            return [paper.raw_data for paper in results.items[:limit]]

        papers = [PaperRef.from_graph(row) for row in self._call(fetch, f"search '{query}'")]
        atomic_write_json(key, [paper.model_dump() for paper in papers])
        return papers

    def bibtex(self, paper: PaperRef) -> str | None:
        """The service's BibTeX for `paper` (`citationStyles.bibtex`), or None if it has none."""
        if paper.bibtex:
            return paper.bibtex
        key = self._cache_path("bibtex", paper.paper_id)
        cached = self._read_cache(key)
        if cached is not None:
            return cached.get("bibtex")

        def fetch() -> dict[str, Any]:
            return self._api.get_paper(paper.paper_id, fields=["citationStyles"]).raw_data

        data = self._call(fetch, f"BibTeX of {paper.paper_id}")
        bibtex = (data.get("citationStyles") or {}).get("bibtex")
        atomic_write_json(key, {"bibtex": bibtex})
        return bibtex

    # ------------------------------------------------------------------ internals
    def _call(self, fetch: Callable[[], Any], what: str) -> Any:
        if self.offline:
            raise LiteratureUnavailable(
                f"literature is offline and {what} is not cached",
                hint="run once with network access to fill the cache",
            )
        for attempt in range(self.max_attempts):
            try:
                return _unwrap_retry(fetch)
            except ConnectionRefusedError:  # the package's signal for HTTP 429
                if attempt + 1 < self.max_attempts:
                    time.sleep(self.backoff_s * 2**attempt)
            except (httpx.HTTPError, OSError, SemanticScholarException) as exc:
                raise LiteratureUnavailable(
                    f"Semantic Scholar unreachable for {what}: {type(exc).__name__}: {exc}",
                    hint="check the network, or set S2_API_KEY if access is forbidden",
                ) from None
        raise LiteratureUnavailable(
            f"Semantic Scholar rate limit (HTTP 429) for {what}, "
            f"gave up after {self.max_attempts} attempts",
            hint="set S2_API_KEY for a higher rate limit, or retry later",
        )

    def _cache_path(self, kind: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.cache_dir / f"{kind}-{digest}.json"

    @staticmethod
    def _read_cache(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
