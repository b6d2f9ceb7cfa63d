"""`ProviderChatModel`: one provider made into a `ChatModel` with retries, repair and cost."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable

from pydantic import BaseModel

from scientist.errors import LLMFormatError
from scientist.llm.base import (
    DEFAULT_MAX_TOKENS,
    Completion,
    Message,
    MessageLike,
    Provider,
    Reply,
    as_messages,
)
from scientist.llm.budget import CallMeter
from scientist.llm.capabilities import ModelCapabilities
from scientist.llm.image_tokens import images_tokens
from scientist.llm.journal import CallJournal
from scientist.llm.pricing import PriceTable
from scientist.llm.retry import RetryPolicy, call_with_retries
from scientist.llm.structured import parse_as, repair_messages


def new_call_id() -> str:
    return uuid.uuid4().hex[:16]


def cacheable_chars(messages: list[Message]) -> int:
    """The characters of the conversation's marked stable prefix (`Message.cache_prefix`):
    what a provider may write to its prompt cache."""
    marked = [index for index, message in enumerate(messages) if message.cache_prefix]
    return sum(len(m.content) for m in messages[: marked[-1] + 1]) if marked else 0


class ProviderChatModel:
    """Answers through `provider`: transient failures are retried with backoff, output
    that fails the schema is sent back with the error up to `format_retries` times. A
    temperature, or a seed, is not sent to a model whose `capabilities` refuse one."""

    def __init__(
        self,
        name: str,
        provider: Provider,
        *,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
        format_retries: int = 2,
        rng: random.Random | None = None,
        capabilities: ModelCapabilities | None = None,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or ModelCapabilities()
        self.provider = provider
        self.prices = prices or PriceTable()
        self.retry = retry or RetryPolicy()
        self.format_retries = format_retries
        self._rng = rng or random.Random()

    @property
    def context_tokens(self) -> int | None:
        """The model's context window: read by its provider where it reads one (a local
        model, from its config), else the family table's; None when neither knows."""
        return getattr(self.provider, "context_tokens", None) or self.capabilities.context_tokens

    def complete(
        self,
        messages: Iterable[MessageLike],
        schema: type[BaseModel] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        meter: CallMeter | None = None,
        call_id: str | None = None,
        journal: CallJournal | None = None,
    ) -> Completion:
        """Answer `messages`; `meter` (optional) collects usage and enforces a budget;
        `journal` (optional) records every request and answers those it recorded before."""
        meter = meter or CallMeter()
        conversation = as_messages(messages)
        limit = max_tokens or DEFAULT_MAX_TOKENS
        if not self.capabilities.temperature:
            temperature = None
        if not self.capabilities.seed:
            seed = None
        started = time.perf_counter()
        reply = self._request(conversation, schema, temperature, limit, seed, meter, journal)
        parsed = None
        if schema is not None:
            for attempt in range(self.format_retries + 1):
                try:
                    parsed = parse_as(reply.text, schema)
                    break
                except ValueError as exc:
                    if attempt == self.format_retries:
                        raise LLMFormatError(
                            f"{self.name} gave no valid {schema.__name__} after "
                            f"{attempt + 1} attempts: {exc}",
                            raw_text=reply.text,
                        ) from None
                    conversation = repair_messages(conversation, reply.text, str(exc))
                    reply = self._request(
                        conversation, schema, temperature, limit, seed, meter, journal
                    )
        return Completion(
            text=reply.text,
            parsed=parsed,
            usage=meter.usage,
            model=self.name,
            latency_s=time.perf_counter() - started,
            call_id=(journal and journal.replayed_call_id) or call_id or new_call_id(),
            truncated=reply.truncated,
        )

    def _request(
        self,
        messages: list[Message],
        schema: type[BaseModel] | None,
        temperature: float | None,
        max_tokens: int,
        seed: int | None,
        meter: CallMeter,
        journal: CallJournal | None = None,
    ) -> Reply:
        key = journal.key(messages, schema, temperature, max_tokens, seed) if journal else ""
        if journal is not None and (recorded := journal.replay(key)) is not None:
            return recorded
        prompt_chars = sum(len(message.content) for message in messages)
        if schema is not None:
            prompt_chars += len(str(schema.model_json_schema()))
        image_tokens = images_tokens(self.name, [image for m in messages for image in m.images])
        estimate = self.prices.worst_case_usd(
            self.name, prompt_chars, max_tokens, image_tokens, cacheable_chars(messages)
        )

        def attempt() -> Reply:
            with meter.request(self.name, estimate) as record:
                number = journal.sent(key, self.name, estimate) if journal else 0
                try:
                    reply = self.provider.send(
                        messages, schema, temperature=temperature, max_tokens=max_tokens, seed=seed
                    )
                except Exception:  # refused or unreachable: nothing was paid
                    if journal is not None:
                        journal.failed(number, key, self.name)
                    raise
                usage = self.prices.usage(
                    self.name,
                    reply.input_tokens,
                    reply.output_tokens,
                    image_tokens,
                    cached_input_tokens=reply.cached_input_tokens,
                    cache_write_tokens=reply.cache_write_tokens,
                )
                if journal is not None:
                    journal.answered(number, key, self.name, reply, usage)
                record(usage)
                return reply

        return call_with_retries(attempt, self.retry, describe=self.name, rng=self._rng)

    def check(self) -> None:
        """The provider's check: key, URL and model name, before any paid request."""
        self.provider.check()

    def close(self) -> None:
        self.provider.close()
