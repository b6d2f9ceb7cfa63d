"""The records and protocols of the LLM layer: messages, completions, chat models, providers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from scientist.llm.images import Image
from scientist.models import Usage

DEFAULT_MAX_TOKENS = 4096


class Message(BaseModel):
    """One chat turn: text, and on a user turn the images shown with it (only to a model
    whose capabilities say `vision`).

    `cache_prefix` marks the end of a stable prefix: later requests start with the same
    messages up to this one, byte for byte, so a provider's prompt cache may serve them.
    OpenAI caches prefixes by itself; Anthropic caches only up to a block marked
    `cache_control`, which the provider puts on this message's last block. It changes
    nothing the model reads (the journal's request key leaves it out).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str
    images: tuple[Image, ...] = ()
    cache_prefix: bool = False


MessageLike = Message | Mapping[str, Any]


def as_messages(messages: Iterable[MessageLike]) -> list[Message]:
    """Accept `Message` objects or plain `{"role": ..., "content": ...}` dicts."""
    return [m if isinstance(m, Message) else Message.model_validate(dict(m)) for m in messages]


class Completion(BaseModel):
    """What a chat model answered, with what it cost.

    `usage` sums every request the call made (repair rounds included); `parsed` is the
    validated pydantic object when a schema was given, else None.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str
    parsed: Any = None
    usage: Usage = Field(default_factory=Usage)
    model: str
    latency_s: float = 0.0
    call_id: str
    truncated: bool = Field(default=False, description="the answer hit the output-token limit")


@runtime_checkable
class ChatModel(Protocol):
    """Anything that answers a conversation, optionally as a validated pydantic object."""

    name: str

    def complete(
        self,
        messages: Iterable[MessageLike],
        schema: type[BaseModel] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> Completion: ...


class Reply(BaseModel):
    """One provider request's raw answer (before validation and pricing); `truncated` when
    it stopped at the output-token limit (OpenAI `length`, Anthropic `max_tokens`).

    `input_tokens` counts every prompt token; `cached_input_tokens` (read from the prompt
    cache) and `cache_write_tokens` (written to it) are parts of it, priced apart.
    """

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    truncated: bool = False


class Provider(Protocol):
    """One backend request: send a conversation, get text back.

    Providers raise `TransientError` for what retrying may fix (429, 5xx, timeouts,
    connection errors) and `LLMProviderError` for what it will not. A `seed` reaches only a
    provider whose API takes one (`ModelCapabilities.seed`).
    """

    model: str

    def send(
        self,
        messages: list[Message],
        schema: type[BaseModel] | None,
        *,
        temperature: float | None,
        max_tokens: int,
        seed: int | None = None,
    ) -> Reply: ...

    def check(self) -> None:
        """One cheap round trip that proves the key, the URL and the model name; raises
        `LLMProviderError` naming the provider, the model and the URL."""

    def close(self) -> None: ...


class TransientError(Exception):
    """A request failure that a later attempt may not repeat; `retry_after` in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
