"""The replay server's prompt cache: which input tokens the real APIs would serve from theirs.

**OpenAI** caches by itself: a request's cached tokens are the longest prefix its prompt text
shares with a prompt sent earlier to the same model, counted only from `OPENAI_MIN_TOKENS`
(1024) on and in whole blocks of `OPENAI_BLOCK` (128) tokens.

**Anthropic** caches only up to blocks marked `cache_control`: the prompt up to each mark is
an entry of that model. A request reads the longest of its marked prefixes that an earlier
request wrote, and writes the rest of the prompt up to its last mark; a prefix shorter than
`ANTHROPIC_MIN_TOKENS` (1024) is never cached.

A prompt's text is its turns as JSON (on the Anthropic wire the system first, as a turn),
image parts and `cache_control` marks left out, at about 4 characters a token; tools and
response formats are not part of it. Entries never expire.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from scientist.llm.image_parts import without_images

CHARS_PER_TOKEN = 4
OPENAI_MIN_TOKENS = 1024
OPENAI_BLOCK = 128
ANTHROPIC_MIN_TOKENS = 1024


def text_tokens(text: str) -> int:
    """The replay server's token count of a text (at least 1)."""
    return max(len(text) // CHARS_PER_TOKEN, 1)


def prompt_text(body: dict[str, Any], anthropic_wire: bool) -> str:
    """The request's prompt as text: its turns as JSON (the Anthropic `system` as a first
    turn), `cache_control` marks and image parts left out."""
    return _text(_turns(body, anthropic_wire))


class PromptCache:
    """What the server has cached, per model; safe to share between request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._openai: dict[str, list[str]] = {}
        self._anthropic: set[str] = set()

    def openai(self, model: str, text: str) -> int:
        """The cached tokens of an OpenAI prompt; the prompt is cached for later requests."""
        with self._lock:
            earlier = self._openai.setdefault(model, [])
            shared = max((_shared_chars(text, seen) for seen in earlier), default=0)
            earlier.append(text)
        tokens = shared // CHARS_PER_TOKEN
        return tokens // OPENAI_BLOCK * OPENAI_BLOCK if tokens >= OPENAI_MIN_TOKENS else 0

    def anthropic(self, model: str, body: dict[str, Any]) -> tuple[int, int]:
        """The (read, written) tokens of an Anthropic request's marked prefixes."""
        prefixes = [
            (text_tokens(text), _digest(model, text))
            for text in _marked_prefixes(body)
            if text_tokens(text) >= ANTHROPIC_MIN_TOKENS
        ]
        if not prefixes:
            return 0, 0
        with self._lock:
            read = max((tokens for tokens, key in prefixes if key in self._anthropic), default=0)
            self._anthropic.update(key for _, key in prefixes)
        return read, prefixes[-1][0] - read


def _marked_prefixes(body: dict[str, Any]) -> list[str]:
    """The prompt text up to each block marked `cache_control`, in order."""
    raw = _turns(body, anthropic_wire=True)
    prefixes = []
    for index, turn in enumerate(raw):
        content = turn.get("content")
        if not isinstance(content, list):
            continue
        for end, block in enumerate(content, start=1):
            if isinstance(block, dict) and "cache_control" in block:
                cut = [*raw[:index], {**turn, "content": content[:end]}]
                prefixes.append(_text(cut))
    return prefixes


def _turns(body: dict[str, Any], anthropic_wire: bool) -> list[dict[str, Any]]:
    turns = list(body.get("messages", []))
    if anthropic_wire and body.get("system"):
        turns.insert(0, {"role": "system", "content": body["system"]})
    return turns


def _text(turns: list[dict[str, Any]]) -> str:
    return json.dumps(without_images([_unmarked(turn) for turn in turns]))


def _unmarked(turn: dict[str, Any]) -> dict[str, Any]:
    content = turn.get("content")
    if not isinstance(content, list):
        return turn
    blocks = [
        {key: value for key, value in block.items() if key != "cache_control"}
        if isinstance(block, dict)
        else block
        for block in content
    ]
    return {**turn, "content": blocks}


def _shared_chars(text: str, other: str) -> int:
    """How many leading characters two texts share."""
    length = min(len(text), len(other))
    return next((i for i in range(length) if text[i] != other[i]), length)


def _digest(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()
