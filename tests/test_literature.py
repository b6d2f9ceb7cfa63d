"""The literature client against a local fake Semantic Scholar Graph API server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from scientist.errors import LiteratureUnavailable
from scientist.literature import LiteratureClient, PaperRef

TIES_BIB = "@inproceedings{Yadav2023TIES,\n title={TIES-Merging},\n year={2023}\n}"
PAPERS = [
    {
        "paperId": "p-ties",
        "title": "TIES-Merging: Resolving Interference When Merging Models",
        "year": 2023,
        "authors": [{"authorId": "1", "name": "Prateek Yadav"}],
        "venue": "NeurIPS",
        "abstract": "Merging task vectors.",
        "citationCount": 400,
        "citationStyles": {"bibtex": TIES_BIB},
    },
    {
        "paperId": "p-dare",
        "title": "Language Models are Super Mario",
        "year": 2024,
        "authors": [{"authorId": "2", "name": "Le Yu"}],
        "venue": "ICML",
        "abstract": None,
        "citationCount": 300,
    },
]


class FakeGraphAPI:
    """Serves /graph/v1/paper/search and /graph/v1/paper/{id}; can answer 429 on demand."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.rate_limited = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests.append(self.path)
                if api.rate_limited:
                    return self._send(429, {"message": "Too Many Requests"})
                url = urlparse(self.path)
                if url.path == "/graph/v1/paper/search":
                    query = parse_qs(url.query)["query"][0].lower()
                    hits = [
                        p for p in PAPERS if any(w in p["title"].lower() for w in query.split())
                    ]
                    return self._send(200, {"total": len(hits), "offset": 0, "data": hits})
                if url.path == "/graph/v1/paper/p-dare":
                    bib = "@article{Yu2024DARE,\n title={Super Mario},\n year={2024}\n}"
                    return self._send(200, {"paperId": "p-dare", "citationStyles": {"bibtex": bib}})
                return self._send(404, {"error": "not found"})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_s2() -> Iterator[FakeGraphAPI]:
    api = FakeGraphAPI()
    yield api
    api.stop()


def client(tmp_path: Path, url: str, **kwargs: object) -> LiteratureClient:
    return LiteratureClient(tmp_path / "cache", base_url=url, timeout_s=2, **kwargs)


def test_search_returns_paper_refs_with_bibtex(tmp_path: Path, fake_s2: FakeGraphAPI) -> None:
    papers = client(tmp_path, fake_s2.url).search("ties merging", limit=5)
    assert [p.paper_id for p in papers] == ["p-ties"]
    assert papers[0].authors == ["Prateek Yadav"]
    assert papers[0].year == 2023 and papers[0].citation_count == 400
    assert papers[0].bibtex == TIES_BIB
    assert "fields=" in fake_s2.requests[0] and "citationStyles" in fake_s2.requests[0]


def test_bibtex_is_fetched_when_search_had_none(tmp_path: Path, fake_s2: FakeGraphAPI) -> None:
    lit = client(tmp_path, fake_s2.url)
    [dare] = lit.search("mario")
    assert dare.bibtex is None
    assert lit.bibtex(dare).startswith("@article{Yu2024DARE")
    assert fake_s2.requests[-1].startswith("/graph/v1/paper/p-dare")


def test_cached_answers_survive_the_server_going_away(
    tmp_path: Path, fake_s2: FakeGraphAPI
) -> None:
    lit = client(tmp_path, fake_s2.url)
    first = lit.search("ties merging")
    dare_bib = lit.bibtex(PaperRef(paper_id="p-dare", title="Super Mario"))
    fake_s2.stop()
    again = client(tmp_path, fake_s2.url)
    assert again.search("ties merging") == first
    assert again.bibtex(PaperRef(paper_id="p-dare", title="Super Mario")) == dare_bib
    offline = client(tmp_path, fake_s2.url, offline=True)
    assert offline.search("ties merging") == first


def test_unreachable_without_cache_raises(tmp_path: Path, fake_s2: FakeGraphAPI) -> None:
    fake_s2.stop()
    with pytest.raises(LiteratureUnavailable, match="unreachable"):
        client(tmp_path, fake_s2.url).search("ties merging")


def test_offline_without_cache_raises(tmp_path: Path, fake_s2: FakeGraphAPI) -> None:
    with pytest.raises(LiteratureUnavailable, match="offline"):
        client(tmp_path, fake_s2.url, offline=True).search("ties merging")
    assert fake_s2.requests == []


def test_rate_limit_backs_off_then_gives_up(tmp_path: Path, fake_s2: FakeGraphAPI) -> None:
    fake_s2.rate_limited = True
    lit = client(tmp_path, fake_s2.url, max_attempts=3, backoff_s=0.01)
    with pytest.raises(LiteratureUnavailable, match="429"):
        lit.search("ties merging")
    assert len(fake_s2.requests) == 3
