"""`anthropic:<model>`: the official anthropic SDK, messages API.

Structured output goes through a forced tool whose `input_schema` is the schema's JSON
Schema; the tool call's input is the answer. System messages become the `system`
parameter. Config `models.base_url` or `ANTHROPIC_BASE_URL` point it at another server
(a trailing `/v1` is dropped, so one OpenAI-style URL can serve a mixed pool).

Prompt caching: a message marked `cache_prefix` gets `cache_control: {"type": "ephemeral"}`
on its last block (the system then goes as text blocks), so Anthropic caches the request up
to there. Its usage counts cache reads (`cache_read_input_tokens`) and writes
(`cache_creation_input_tokens`) apart from `input_tokens`; the `Reply` counts every prompt
token in `input_tokens`, with the reads and writes as parts of it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic
from pydantic import BaseModel

from scientist.config import ModelsConfig
from scientist.llm.base import Message, Provider, Reply
from scientist.llm.capabilities import ModelCapabilities
from scientist.llm.providers.errors import check_failure, translate
from scientist.llm.providers.keys import api_key as env_api_key
from scientist.llm.registry import register_provider
from scientist.llm.structured import json_schema, schema_name


class AnthropicProvider:
    def __init__(self, model: str, *, base_url: str | None = None, timeout_s: float = 120) -> None:
        base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        if base_url is not None:  # the SDK appends /v1 itself; one URL serves both kinds
            base_url = base_url.rstrip("/").removesuffix("/v1")
        api_key = env_api_key("anthropic", model, "ANTHROPIC_API_KEY", base_url=base_url)
        self.model = model
        self.client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0
        )

    def send(
        self,
        messages: list[Message],
        schema: type[BaseModel] | None,
        *,
        temperature: float | None,
        max_tokens: int,
        seed: int | None = None,
    ) -> Reply:
        """`seed` is always None here: the messages API has none (`ModelCapabilities.seed`)."""
        system = anthropic_system([m for m in messages if m.role == "system"])
        turns = [anthropic_turn(m) for m in messages if m.role != "system"]
        options: dict = {}
        if system:
            options["system"] = system
        if temperature is not None:
            options["extra_body"] = {"temperature": temperature}
        if schema is not None:
            tool = schema_name(schema)
            options["tools"] = [
                {
                    "name": tool,
                    "description": f"Record the answer as a {schema.__name__} object.",
                    "input_schema": json_schema(schema),
                }
            ]
            options["tool_choice"] = {"type": "tool", "name": tool}
        try:
            response = self.client.messages.create(
                model=self.model, max_tokens=max_tokens, messages=turns, **options
            )
        except anthropic.AnthropicError as exc:
            raise translate(exc, anthropic, self.where) from exc
        tool_inputs = [block.input for block in response.content if block.type == "tool_use"]
        texts = [block.text for block in response.content if block.type == "text"]
        text = json.dumps(tool_inputs[0]) if tool_inputs else "".join(texts)
        usage = response.usage
        reads = usage.cache_read_input_tokens or 0
        writes = usage.cache_creation_input_tokens or 0
        return Reply(
            text=text,
            input_tokens=usage.input_tokens + reads + writes,
            output_tokens=usage.output_tokens,
            cached_input_tokens=reads,
            cache_write_tokens=writes,
            truncated=response.stop_reason == "max_tokens",
        )

    @property
    def where(self) -> str:
        """The model and its server, as errors name them."""
        return f"anthropic:{self.model} at {self.client.base_url}"

    def check(self) -> None:
        """One free round trip (the model's metadata): the key, the URL and the model name."""
        try:
            self.client.models.retrieve(self.model)
        except anthropic.AnthropicError as exc:
            raise check_failure(exc, anthropic, self.where) from None

    def close(self) -> None:
        self.client.close()


CACHE_CONTROL = {"type": "ephemeral"}


def anthropic_system(messages: list[Message]) -> str | list[dict[str, Any]]:
    """The `system` parameter: the system messages' text, or one text block each when one
    of them ends a stable prefix (its block then carries `cache_control`)."""
    if not any(message.cache_prefix for message in messages):
        return "\n\n".join(message.content for message in messages)
    return [text_block(message) for message in messages]


def text_block(message: Message) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": message.content}
    return {**block, "cache_control": CACHE_CONTROL} if message.cache_prefix else block


def anthropic_turn(message: Message) -> dict[str, Any]:
    """A Messages API turn: plain text, or base64 `image` blocks then the text (the order
    Anthropic recommends); blocks also when the turn ends a stable prefix."""
    if not message.images and not message.cache_prefix:
        return {"role": message.role, "content": message.content}
    blocks: list[dict[str, Any]] = [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": image.media_type, "data": image.data},
        }
        for image in message.images
    ]
    blocks.append(text_block(message))
    return {"role": message.role, "content": blocks}


@register_provider("anthropic", paid=True)
def open_anthropic(name: str, config: ModelsConfig, capabilities: ModelCapabilities) -> Provider:
    return AnthropicProvider(name, base_url=config.base_url, timeout_s=config.timeout_s)
