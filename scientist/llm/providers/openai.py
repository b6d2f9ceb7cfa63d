"""`openai:<model>`: the official openai SDK, chat completions API.

Works for OpenAI and any OpenAI-compatible server (vLLM, Ollama, llama.cpp) through
`base_url` (config `models.base_url` or `OPENAI_BASE_URL`). Structured output uses the
native `response_format`: a strict JSON schema when the schema allows it, else JSON mode
with the schema in a system message; the caller validates either way. The output cap is
sent as `token_limit_field` (`max_completion_tokens` for reasoning models, see
`scientist.llm.capabilities`).

OpenAI caches prompt prefixes by itself; `usage.prompt_tokens_details.cached_tokens` says
how many of `prompt_tokens` it read from the cache (`Reply.cached_input_tokens`).
"""

from __future__ import annotations

import os
from typing import Any

import openai
from pydantic import BaseModel

from scientist.config import ModelsConfig
from scientist.errors import LLMProviderError
from scientist.llm.base import Message, Provider, Reply
from scientist.llm.capabilities import ModelCapabilities
from scientist.llm.providers.errors import check_failure, translate
from scientist.llm.providers.keys import api_key as env_api_key
from scientist.llm.registry import register_provider
from scientist.llm.structured import schema_name, strict_json_schema, with_instructions


class OpenAIProvider:
    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        timeout_s: float = 120,
        api_key: str | None = None,
        token_limit_field: str = "max_tokens",
    ) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = api_key or env_api_key("openai", model, "OPENAI_API_KEY", base_url=base_url)
        self.model = model
        self.token_limit_field = token_limit_field
        self.client = openai.OpenAI(
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
        options: dict = {self.token_limit_field: max_tokens}
        if temperature is not None:
            options["temperature"] = temperature
        if seed is not None:
            options["seed"] = seed
        if schema is not None:
            strict = strict_json_schema(schema)
            if strict is None:
                messages = with_instructions(messages, schema)
                options["response_format"] = {"type": "json_object"}
            else:
                options["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": schema_name(schema), "schema": strict, "strict": True},
                }
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=[openai_message(message) for message in messages],
                **options,
            )
        except openai.OpenAIError as exc:
            raise translate(exc, openai, self.where) from exc
        if not response.choices:
            raise LLMProviderError(f"openai:{self.model} returned no choices")
        message = response.choices[0].message
        if getattr(message, "refusal", None):
            raise LLMProviderError(f"openai:{self.model} refused: {message.refusal}")
        usage = response.usage
        details = usage.prompt_tokens_details if usage else None
        return Reply(
            text=message.content or "",
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cached_input_tokens=(details.cached_tokens or 0) if details else 0,
            truncated=response.choices[0].finish_reason == "length",
        )

    @property
    def where(self) -> str:
        """The model and its server, as errors name them."""
        return f"openai:{self.model} at {self.client.base_url}"

    def check(self) -> None:
        """One free round trip (the model's metadata): the key, the URL and the model name.
        A server without `GET /models/<name>` is asked for its model list instead."""
        try:
            try:
                self.client.models.retrieve(self.model)
            except openai.NotFoundError as missing:
                if self.model not in [listed.id for listed in self.client.models.list()]:
                    raise missing
        except openai.OpenAIError as exc:
            raise check_failure(exc, openai, self.where) from None

    def close(self) -> None:
        self.client.close()


def openai_message(message: Message) -> dict[str, Any]:
    """A chat-completions message: plain text, or text then `image_url` parts (data URLs)."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts += [
        {"type": "image_url", "image_url": {"url": image.data_url, "detail": "auto"}}
        for image in message.images
    ]
    return {"role": message.role, "content": parts}


@register_provider("openai", paid=True)
def open_openai(name: str, config: ModelsConfig, capabilities: ModelCapabilities) -> Provider:
    return OpenAIProvider(
        name,
        base_url=config.base_url,
        timeout_s=config.timeout_s,
        token_limit_field=capabilities.token_limit_field,
    )
