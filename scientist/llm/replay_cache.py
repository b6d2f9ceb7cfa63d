"""The replay server's prompt cache: which input tokens the real APIs would serve from theirs.

**OpenAI** caches by itself: a request's cached tokens are the longest prefix its prompt text
shares with a prompt sent earlier to the same model, counted only from `OPENAI_MIN_TOKENS`
(1024) on and in whole blocks of `OPENAI_BLOCK` (128) tokens.

**Anthropic** caches only up to blocks marked `cache_control`: the prompt up to each mark is
an entry of that model. A request reads the longest of its marked prefixes that an earlier
request wrote, and writes the rest of the prompt up to its last mark; a prefix shorter than
`ANTHROPIC_MIN_TOKENS` (1024) is never cached.

A prompt's text is its turns as JSON (on the Anthropic wire the system first, as a turn),
`cache_control` marks left out, at about 4 characters a token; tools and response formats
are not part of it. Both APIs cache images inside a prefix: in the cache's text an image
stands as a run of characters drawn from the digest of its part, as long as its tokens by
the model's image rule, so the same image in the same place is a shared prefix. Entries
never expire.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from scientist.llm import image_tokens as image_rules
from scientist.llm.image_parts import image_size, is_image, without_images

CHARS_PER_TOKEN = 4
OPENAI_MIN_TOKENS = 1024
OPENAI_BLOCK = 128
ANTHROPIC_MIN_TOKENS = 1024


def text_tokens(text: str) -> int:
    """The replay server's token count of a text (at least 1)."""
    return max(len(text) // CHARS_PER_TOKEN, 1)


def prompt_text(body: dict[str, Any], anthropic_wire: bool) -> str:
    """The request's prompt as text, for counting its text tokens: its turns as JSON (the
    Anthropic `system` as a first turn), `cache_control` marks and image parts left out."""
    return json.dumps(without_images([_unmarked(t) for t in _turns(body, anthropic_wire)]))


def cache_text(body: dict[str, Any], anthropic_wire: bool) -> str:
    """The request's prompt as the cache compares it: its text with each image in place."""
    return _text(_turns(body, anthropic_wire), _spec(body, anthropic_wire))


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
            for text in _marked_prefixes(body, _spec(body, anthropic_wire=True))
            if text_tokens(text) >= ANTHROPIC_MIN_TOKENS
        ]
        if not prefixes:
            return 0, 0
        with self._lock:
            read = max((tokens for tokens, key in prefixes if key in self._anthropic), default=0)
            self._anthropic.update(key for _, key in prefixes)
        return read, prefixes[-1][0] - read


def _marked_prefixes(body: dict[str, Any], spec: str) -> list[str]:
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
                prefixes.append(_text(cut, spec))
    return prefixes


def _turns(body: dict[str, Any], anthropic_wire: bool) -> list[dict[str, Any]]:
    turns = list(body.get("messages", []))
    if anthropic_wire and body.get("system"):
        turns.insert(0, {"role": "system", "content": body["system"]})
    return turns


def _spec(body: dict[str, Any], anthropic_wire: bool) -> str:
    return f"{'anthropic' if anthropic_wire else 'openai'}:{body.get('model')}"


def _text(turns: list[dict[str, Any]], spec: str) -> str:
    return json.dumps([_with_image_runs(_unmarked(turn), spec) for turn in turns])


def _with_image_runs(turn: dict[str, Any], spec: str) -> dict[str, Any]:
    """`turn` with each image part replaced by its run of characters (see the module)."""
    content = turn.get("content")
    if not isinstance(content, list):
        return turn
    return {**turn, "content": [_image_run(p, spec) if is_image(p) else p for p in content]}


def _image_run(part: dict[str, Any], spec: str) -> str:
    length = CHARS_PER_TOKEN * image_rules.image_tokens(spec, *image_size(part))
    digest = hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()
    return (digest * (length // len(digest) + 1))[:length]


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
