"""The live, read-only view: a threaded HTTP server over one campaign's `Site`.

Only GET and HEAD are answered (any other method gets 405), so nothing can be written
through it. It binds to 127.0.0.1 unless told otherwise, and then answers only requests
addressed to 127.0.0.1 or localhost (a web page that rebinds its own name to 127.0.0.1 gets
403, so it cannot read the campaign). Files of the campaign are served under `files/` and
confined to the campaign directory (a traversal gets 403), and streamed in chunks, never read
whole into memory. Live pages poll `api/version` (the campaign's) or `api/version?idea=ID`
(one idea's), answered with the version and the campaign's state (`activity.py`), and patch
what changed in place; a page whose poll goes unanswered says the view is unreachable.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import os
import shutil
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from scientist.errors import PathRefused, ScientistError, ViewError
from scientist.view.site import FILES, Page, Site

CHUNK_BYTES = 1024 * 1024
LOOPBACK = "127.0.0.1"
VERSION_PATH = "api/version"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class ViewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site, host: str, port: int) -> None:
        self.site = site
        try:
            super().__init__((host, port), ViewHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ViewError(
                    f"port {port} on {host} is in use", hint="pick another with --port"
                ) from None
            raise ViewError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def addressed_to_me(self, host_header: str | None) -> bool:
        """Whether a request's Host names this server; any Host when bound beyond loopback."""
        host, port = self.server_address[:2]
        if host != LOOPBACK:
            return True
        return host_header in {f"{LOOPBACK}:{port}", f"localhost:{port}"}


class ViewHandler(BaseHTTPRequestHandler):
    server: ViewServer
    server_version = "scientist-view"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _refuse_method(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, _text("read-only view"), True, Allow="GET, HEAD")

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse_method

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal shows the URL, not every request."""

    def _answer(self, send_body: bool) -> None:
        if not self.server.addressed_to_me(self.headers.get("Host")):
            self._send(HTTPStatus.FORBIDDEN, _text("refused: unknown Host"), send_body)
            return
        url = urlsplit(self.path)
        path = unquote(url.path).lstrip("/") or "index.html"
        site = self.server.site
        try:
            if path == VERSION_PATH:
                idea = parse_qs(url.query).get("idea", [None])[0]
                activity = site.reader.activity()
                answer = {
                    "version": site.reader.version(idea),
                    "state": activity.state,
                    "badge": activity.badge,
                    "summary": activity.summary,
                }
                page = Page(json.dumps(answer).encode(), "application/json")
            elif path.startswith(FILES):
                file = site.campaign_file(path.removeprefix(FILES))
                if file is not None:
                    self._send_file(file, send_body)
                    return
                page = None
            else:
                page = site.page(path)
        except PathRefused:
            self._send(HTTPStatus.FORBIDDEN, _text("refused: outside the campaign"), send_body)
            return
        except ScientistError as exc:  # e.g. a torn or invalid record in the campaign
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, _text(str(exc)), send_body)
            return
        if page is None:
            self._send(HTTPStatus.NOT_FOUND, _text("not found"), send_body)
        else:
            self._send(HTTPStatus.OK, page, send_body)

    def _send(self, status: HTTPStatus, page: Page, send_body: bool, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        for name, value in {**SECURITY_HEADERS, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(page.body)

    def _send_file(self, path: Path, send_body: bool) -> None:
        """A campaign file, streamed in chunks: the view never holds a whole file in memory
        (runs write outputs of hundreds of MB)."""
        try:
            handle = path.open("rb")
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, _text("not found"), send_body)
            return
        with handle:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", _content_type(path))
            self.send_header("Content-Length", str(os.fstat(handle.fileno()).st_size))
            for name, value in SECURITY_HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                shutil.copyfileobj(handle, self.wfile, CHUNK_BYTES)


def _content_type(path: Path) -> str:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or path.suffix in {".log", ".diff", ".tex", ".bib"}:
        content_type = "text/plain; charset=utf-8"
    return content_type


def _text(message: str) -> Page:
    return Page(message.encode() + b"\n", "text/plain; charset=utf-8")
