"""`local:<name>`: a chat model from local weights with `transformers` (CPU or GPU).

`<name>` is `smollm2`, a `.gguf` file or a `save_pretrained` folder (`scientist.model_source`:
a GGUF file is converted once into the model cache). The prompt is the tokenizer's chat
template when it has one, else the turns joined as "role: content" lines ending in
"assistant:". The context window is the model config's `max_position_embeddings` (else the
tokenizer's `model_max_length`), or `context_cap` when that is smaller: an answer gets at
most `max_new_tokens` and half the window, and a prompt longer than the rest loses the
middle of its longest message, marked (`llm/context_fit.py`). A structured answer states
the schema in a system message (the model learns what the fields mean) and is decoded under
a JSON-schema constraint (`llm/constrained.py`), so it parses and validates unless
`max_new_tokens` cuts it short; the caller's repair loop stays for that case. Where the
constraint library is missing, the schema is one it cannot express, or the model's
capabilities say `constrained = false`, the answer is decoded unconstrained and the repair
loop fixes what fails. Weights load on the first request, so naming a local model in a pool
costs nothing until used. Local models are unpriced (cost 0) and take no images.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from scientist.config import ModelsConfig
from scientist.errors import LLMProviderError
from scientist.llm.base import Message, Provider, Reply
from scientist.llm.capabilities import ModelCapabilities
from scientist.llm.constrained import (
    JsonConstraint,
    constraint_available,
    json_constraint,
    token_table,
)
from scientist.llm.context_fit import fit_messages
from scientist.llm.registry import register_provider
from scientist.llm.structured import with_instructions
from scientist.model_source import locate, model_folder

UNSET_LENGTH = 10**9
"""A tokenizer's `model_max_length` at or above this is transformers' "no limit" sentinel."""


def plain_prompt(messages: list[Message]) -> str:
    """The conversation as text for tokenizers without a chat template."""
    turns = [f"{message.role}: {message.content}" for message in messages]
    return "\n".join([*turns, "assistant:"])


def context_window(model: Any, tokenizer: Any) -> int:
    """The tokens a model attends over, from its config (else its tokenizer)."""
    window = getattr(model.config, "max_position_embeddings", None)
    if isinstance(window, int) and window > 0:
        return window
    length = getattr(tokenizer, "model_max_length", None)
    if isinstance(length, int) and 0 < length < UNSET_LENGTH:
        return length
    raise LLMProviderError("the model's config names no context window (max_position_embeddings)")


class LocalProvider:
    def __init__(
        self,
        name: str,
        *,
        max_new_tokens: int,
        context_cap: int | None = None,
        device: str | None = None,
        cache: Path | None = None,
        constrained: bool = True,
    ) -> None:
        locate(name)  # a missing file or package is a ConfigError now, before any run
        self.name = name
        self.model = f"local:{name}"
        self.max_new_tokens = max_new_tokens
        self.context_cap = context_cap
        self._device = device
        self._cache = cache
        self.constrained = constrained and constraint_available()

    @cached_property
    def _loaded(self) -> tuple[Any, Any, str]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            folder = model_folder(self.name, self._cache)
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder).to(device).eval()
        except (OSError, ValueError) as exc:
            raise LLMProviderError(f"cannot load {self.model}: {exc}") from exc
        return tokenizer, model, device

    @cached_property
    def _token_table(self) -> Any:
        tokenizer, model, _ = self._loaded
        return token_table(tokenizer, model)

    def constraint(self, schema: type[BaseModel]) -> JsonConstraint | None:
        """The decoding constraint for an answer of `schema`, None when there is none."""
        return json_constraint(self._token_table, schema) if self.constrained else None

    @property
    def context_tokens(self) -> int:
        """The model's context window (loads the model), or `context_cap` when smaller."""
        tokenizer, model, _ = self._loaded
        return min(context_window(model, tokenizer), self.context_cap or UNSET_LENGTH)

    def count_tokens(self, messages: list[Message]) -> int:
        return len(self._loaded[0](self.render(messages))["input_ids"])

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
        from transformers import LogitsProcessorList

        tokenizer, model, device = self._loaded
        constraint = None
        if schema is not None:
            messages = with_instructions(messages, schema)
            constraint = self.constraint(schema)
        window = self.context_tokens
        answer_limit = min(max_tokens, self.max_new_tokens, window // 2)
        messages = fit_messages(messages, self.count_tokens, window - answer_limit, window)
        inputs = tokenizer(self.render(messages), return_tensors="pt").to(device)
        sampling: dict[str, Any] = {"do_sample": False}
        if temperature:
            sampling = {"do_sample": True, "temperature": temperature}
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id
        if constraint is not None:
            sampling["logits_processor"] = LogitsProcessorList([constraint])
        with torch.inference_mode():
            output = model.generate(
                **inputs, max_new_tokens=answer_limit, pad_token_id=pad_id, **sampling
            )
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[0, prompt_length:]
        return Reply(
            text=tokenizer.decode(new_tokens, skip_special_tokens=True),
            input_tokens=int(prompt_length),
            output_tokens=int(new_tokens.shape[0]),
            truncated=int(new_tokens.shape[0]) >= answer_limit,
        )

    def check(self) -> None:
        """Nothing to reach: the file or folder, and the packages a GGUF file needs, were
        checked when the provider was made."""

    def close(self) -> None:
        self.__dict__.pop("_loaded", None)
        self.__dict__.pop("_token_table", None)


@register_provider("local", paid=False)
def open_local(name: str, config: ModelsConfig, capabilities: ModelCapabilities) -> Provider:
    return LocalProvider(
        name,
        max_new_tokens=config.local_max_tokens,
        context_cap=config.local_context_tokens,
        constrained=capabilities.constrained,
    )
