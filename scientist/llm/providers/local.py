"""`local:<path>`: a chat model from local weights with `transformers` (CPU or GPU).

The prompt is the tokenizer's chat template when it has one, else the turns joined as
"role: content" lines ending in "assistant:". Structured output is JSON + validation: the
schema goes into a system message and the caller's repair loop fixes what fails. Weights
load on the first request, so naming a local model in a pool costs nothing until used.
Local models are unpriced (cost 0) and take no images.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from scientist.config import ModelsConfig
from scientist.errors import ConfigError, LLMProviderError
from scientist.llm.base import Message, Provider, Reply
from scientist.llm.capabilities import ModelCapabilities
from scientist.llm.registry import register_provider
from scientist.llm.structured import with_instructions


def plain_prompt(messages: list[Message]) -> str:
    """The conversation as text for tokenizers without a chat template."""
    turns = [f"{message.role}: {message.content}" for message in messages]
    return "\n".join([*turns, "assistant:"])


class LocalProvider:
    def __init__(self, path: Path, *, device: str | None = None) -> None:
        if not Path(path).is_dir():
            raise ConfigError(
                f"local model {path} is not a directory",
                hint="point local:<path> at a folder saved with save_pretrained",
            )
        self.path = Path(path)
        self.model = f"local:{path}"
        self._device = device

    @cached_property
    def _loaded(self) -> tuple[Any, Any, str]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.path)
            model = AutoModelForCausalLM.from_pretrained(self.path).to(device).eval()
        except (OSError, ValueError) as exc:
            raise LLMProviderError(f"cannot load {self.model}: {exc}") from exc
        return tokenizer, model, device

    def render(self, messages: list[Message]) -> str:
        tokenizer = self._loaded[0]
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(
                [message.model_dump() for message in messages],
                tokenize=False,
                add_generation_prompt=True,
            )
        return plain_prompt(messages)

    def send(
        self,
        messages: list[Message],
        schema: type[BaseModel] | None,
        *,
        temperature: float | None,
        max_tokens: int,
        seed: int | None = None,
    ) -> Reply:
        """`seed` is always None here: local models take none (`ModelCapabilities.seed`)."""
        if any(message.images for message in messages):
            raise LLMProviderError(
                f"{self.model} takes no images: ask a role whose model sees images "
                "(RoleModel.sees_images) to look at figures"
            )
        import torch

        tokenizer, model, device = self._loaded
        if schema is not None:
            messages = with_instructions(messages, schema)
        inputs = tokenizer(self.render(messages), return_tensors="pt").to(device)
        sampling: dict[str, Any] = {"do_sample": False}
        if temperature:
            sampling = {"do_sample": True, "temperature": temperature}
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id
        with torch.inference_mode():
            output = model.generate(
                **inputs, max_new_tokens=max_tokens, pad_token_id=pad_id, **sampling
            )
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[0, prompt_length:]
        return Reply(
            text=tokenizer.decode(new_tokens, skip_special_tokens=True),
            input_tokens=int(prompt_length),
            output_tokens=int(new_tokens.shape[0]),
            truncated=int(new_tokens.shape[0]) >= max_tokens,
        )

    def check(self) -> None:
        """Nothing to reach: the folder was checked when the provider was made."""

    def close(self) -> None:
        self.__dict__.pop("_loaded", None)


@register_provider("local", paid=False)
def open_local(name: str, config: ModelsConfig, capabilities: ModelCapabilities) -> Provider:
    return LocalProvider(Path(name))
