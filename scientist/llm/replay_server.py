"""An in-process HTTP server that replays scripted answers over real provider wire formats.

It speaks OpenAI chat completions (`POST .../chat/completions`) and Anthropic messages
(`POST .../messages`), with usage fields, so the real `openai` and `anthropic` SDK
clients run against it unchanged. The `scripted:` provider and the tests both use it.

The script format is in `scientist.llm.replay_script`.

A request that finds no entry gets HTTP 400 "replay script exhausted", which the client
raises as `LLMProviderError`. Image parts are checked as the real APIs check them
(`llm/image_parts.py`): a malformed one gets HTTP 400 `invalid_request_error` and uses no
entry. `requests` records every request body, images included (never headers, so never
keys), and `fingerprints` a hash of each, so a test can tell a repeated request.
Usage reports the prompt cache as the APIs do (`llm/replay_cache.py` says which tokens the
server counts as cached): OpenAI `usage.prompt_tokens_details.cached_tokens` (a part of
`prompt_tokens`), Anthropic `usage.cache_read_input_tokens` and
`cache_creation_input_tokens` (apart from `input_tokens`).
`hold(match)` keeps the next request whose last user message fits `match` waiting until
released: a test can kill a client while its call is in flight. `GET .../models/<name>`
answers for any name (the early model check).
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from scientist.llm import image_tokens as image_rules
from scientist.llm.image_parts import anthropic_image_sizes, openai_image_sizes
from scientist.llm.replay_cache import PromptCache, cache_text, prompt_text, text_tokens
from scientist.llm.replay_script import ScriptEntry

EPOCH = "1970-01-01T00:00:00Z"


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content", "")
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content)
            return str(content)
    return ""


def fingerprint(path: str, body: dict[str, Any]) -> str:
    """A request's identity: a hash of its route and its whole body."""
    canonical = json.dumps({"path": path, "body": body}, sort_keys=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


class Hold:
    """One request kept waiting: `arrived` is set when it came in, `release()` answers it.
    The first `skip` requests that fit pass unheld."""

    def __init__(self, match: str, skip: int = 0) -> None:
        self.match = match
        self.skip = skip
        self.arrived = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def wait(self, timeout: float) -> None:
        self._released.wait(timeout)


class ReplayServer:
    """Serves scripted entries on 127.0.0.1; use as a context manager or `start`/`close`."""

    def __init__(self, entries: list[ScriptEntry | dict[str, Any]] | None = None) -> None:
        self._entries: list[ScriptEntry] = []
        self._used: list[bool] = []
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.fingerprints: list[str] = []
        self._holds: list[Hold] = []
        self.cache = PromptCache()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self.load(entries or [])

    @property
    def url(self) -> str:
        """The server root; OpenAI clients want `url + "/v1"`, Anthropic clients `url`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def load(self, entries: list[ScriptEntry | dict[str, Any]]) -> None:
        """Append entries to the script."""
        with self._lock:
            for entry in entries:
                parsed = entry if isinstance(entry, ScriptEntry) else ScriptEntry(**entry)
                self._entries.append(parsed)
                self._used.append(False)

    def hold(self, match: str, *, skip: int = 0) -> Hold:
        """Keep the next request whose last user message fits `match` (substring or regex),
        after `skip` such requests, waiting until `release()` (or the server closes)."""
        held = Hold(match, skip)
        with self._lock:
            self._holds.append(held)
        return held

    def _held(self, user_text: str) -> Hold | None:
        with self._lock:
            for held in self._holds:
                probe = ScriptEntry(text="", match=held.match)
                if not probe.matches(user_text):
                    continue
                if held.skip:
                    held.skip -= 1
                    continue
                self._holds.remove(held)
                return held
        return None

    @property
    def remaining(self) -> int:
        return self._used.count(False)

    def take(self, user_text: str) -> ScriptEntry | None:
        with self._lock:
            unused = [i for i, used in enumerate(self._used) if not used]
            matched = [i for i in unused if self._entries[i].matches(user_text)]
            plain = [i for i in unused if self._entries[i].match is None]
            chosen = (matched or plain or [None])[0]
            if chosen is None:
                return None
            self._used[chosen] = True
            return self._entries[chosen]

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def close(self) -> None:
        with self._lock:
            holds, self._holds = self._holds, []
        for held in holds:
            held.release()
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which must be running
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Silent: tests and the scripted provider have no use for access logs."""

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            anthropic_wire = self.path.rstrip("/").endswith("/messages")
            if not anthropic_wire and not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, _error(anthropic_wire, f"no route {self.path}"))
                return
            server.requests.append({"path": self.path, "body": body})
            server.fingerprints.append(fingerprint(self.path, body))
            try:
                image_tokens = _image_tokens(body, anthropic_wire)
            except ValueError as exc:  # a malformed image part, refused as the API does
                self._send(400, _error(anthropic_wire, str(exc), "invalid_request_error"))
                return
            user_text = _last_user_text(body)
            held = server._held(user_text)
            if held is not None:
                held.arrived.set()
                held.wait(timeout=600)
            entry = server.take(user_text)
            if entry is None:
                message = f"replay script exhausted: no unused entry for {user_text[:80]!r}"
                self._send(400, _error(anthropic_wire, message))
            elif entry.status is not None:
                self._send(entry.status, _error(anthropic_wire, entry.error), entry.headers)
            else:
                tokens = _usage(server.cache, body, entry, image_tokens, anthropic_wire)
                reply = _anthropic_reply if anthropic_wire else _openai_reply
                self._send(200, reply(body, entry, tokens))

        def do_GET(self) -> None:
            route, _, name = self.path.rstrip("/").rpartition("/models/")
            if not route.endswith("/v1") or not name:
                self._send(404, _error(False, f"no route {self.path}"))
                return
            model = {"id": name, "object": "model", "created": 0, "owned_by": "replay"}
            self._send(200, {**model, "type": "model", "display_name": name, "created_at": EPOCH})

        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _image_tokens(body: dict[str, Any], anthropic_wire: bool) -> int:
    """The input tokens of the request's images, by the rule for the model it names; raises
    `ValueError` for a malformed image part."""
    messages = body.get("messages", [])
    if anthropic_wire:
        spec, sizes = f"anthropic:{body.get('model')}", anthropic_image_sizes(messages)
    else:
        spec, sizes = f"openai:{body.get('model')}", openai_image_sizes(messages)
    return sum(image_rules.image_tokens(spec, width, height) for width, height in sizes)


class Tokens(NamedTuple):
    """A reply's usage: `cached` (read from the prompt cache) and `written` (to it) are
    parts of `prompt`."""

    prompt: int
    completion: int
    cached: int = 0
    written: int = 0


def _usage(
    cache: PromptCache,
    body: dict[str, Any],
    entry: ScriptEntry,
    image_tokens: int,
    anthropic_wire: bool,
) -> Tokens:
    """The scripted usage, else the text's tokens plus the images' (as the APIs count), with
    the prompt cache's share; either way the cache learns the prompt."""
    text = prompt_text(body, anthropic_wire)
    model = str(body.get("model"))
    if anthropic_wire:
        cached, written = cache.anthropic(model, body)
    else:
        cached, written = cache.openai(model, cache_text(body, anthropic_wire)), 0
    if entry.usage is not None:
        usage = entry.usage
        return Tokens(
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens,
            usage.cache_write_tokens if anthropic_wire else 0,
        )
    return Tokens(text_tokens(text) + image_tokens, text_tokens(entry.content), cached, written)


def _error(anthropic_wire: bool, message: str, kind: str | None = None) -> dict[str, Any]:
    if anthropic_wire:
        return {"type": "error", "error": {"type": kind or "api_error", "message": message}}
    return {"error": {"message": message, "type": kind or "replay_error", "code": None}}


def _openai_reply(body: dict[str, Any], entry: ScriptEntry, tokens: Tokens) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": entry.content},
                "finish_reason": "length" if entry.truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": tokens.prompt,
            "completion_tokens": tokens.completion,
            "total_tokens": tokens.prompt + tokens.completion,
            "prompt_tokens_details": {"cached_tokens": tokens.cached},
        },
    }


def _anthropic_reply(body: dict[str, Any], entry: ScriptEntry, tokens: Tokens) -> dict[str, Any]:
    forced = (body.get("tool_choice") or {}).get("name")
    answer = entry.json_value
    if answer is None and entry.text is not None:
        try:
            answer = json.loads(entry.text)
        except json.JSONDecodeError:
            answer = None
    if forced and isinstance(answer, dict):
        block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:12]}", "name": forced}
        content, stop = [{**block, "input": answer}], "tool_use"
    else:
        content = [{"type": "text", "text": entry.content}]
        stop = "max_tokens" if entry.truncated else "end_turn"
    return {
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "scripted"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": tokens.prompt - tokens.cached - tokens.written,
            "output_tokens": tokens.completion,
            "cache_read_input_tokens": tokens.cached,
            "cache_creation_input_tokens": tokens.written,
            "cache_creation": {
                "ephemeral_5m_input_tokens": tokens.written,
                "ephemeral_1h_input_tokens": 0,
            },
        },
    }
