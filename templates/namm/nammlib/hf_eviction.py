"""The eviction policies as a shrinking KV cache for Hugging Face causal LMs (Llama-style).

`EvictingGenerator` drives a `transformers` model chunk by chunk over a `DynamicCache`;
every `n_up` tokens each layer's policy scores the cached tokens from that layer's
attention (eager attention, so the weights are returned), and the cache layer's key and
value tensors are physically cut to the kept tokens. Rotary positions stay exact: the new
tokens get their absolute `position_ids`, while the causal mask follows the shorter cache.
Layers may keep different counts, but the model builds one mask from the first layer's
length, so each decoder layer gets that mask fitted to its own cache (see `_fit_mask`).
With grouped-query attention a key/value head's attention is the mean over its query heads.

Policies keep their per-token state over absolute positions, so the same code runs here as
in the recall world: the physical cache is scattered into that view to score, then cut.
A (layer) cache must stay rectangular, so NAMM keeps, in every head of a layer, as many
tokens as its most retentive head keeps. A policy with a `layer_budget` (PyramidKV) keeps
that many tokens in its layer instead of the generator's budget.

A prompt fed as one chunk leaves a state that no policy has touched yet (`read`): every
policy and budget can evict from a copy of it (`resume`), so one forward pass of the prompt
serves them all. Its attention weights are shared, not copied: policies only read them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache, PreTrainedModel

from nammlib.policies import CacheView, Policy, select


@dataclass
class ReadPrompt:
    """The state after a whole prompt was fed as one chunk, before its first eviction: the
    same for every policy, so one forward pass serves them all (`EvictingGenerator.resume`)."""

    cache: DynamicCache
    positions: list[torch.Tensor | None]
    pending: list[list[torch.Tensor]]
    end: int
    logits: torch.Tensor  # (B, V): the next token's


class EvictingGenerator:
    def __init__(
        self,
        model: PreTrainedModel,
        make_policy: Callable[[], Policy],
        budget: int,
        n_up: int,
        capacity: int,
    ) -> None:
        if model.config._attn_implementation != "eager":
            raise ValueError("load the model with attn_implementation='eager' (needs weights)")
        self.model, self.budget, self.n_up, self.capacity = model, budget, n_up, capacity
        self.make_policy = make_policy
        self.cache_sizes: list[int] = []

    def _start(self, batch: int) -> None:
        config = self.model.config
        self.kv_heads = config.num_key_value_heads
        self.cache = DynamicCache(config=config)
        self.end = 0
        self.policies = [self.make_policy() for _ in range(config.num_hidden_layers)]
        no_pairs = torch.zeros(batch, 1, 2, dtype=torch.long)
        for policy in self.policies:
            policy.start((batch, 1, self.kv_heads), self.capacity, no_pairs)
        self.positions: list[torch.Tensor | None] = [None] * config.num_hidden_layers
        self.pending: list[list[torch.Tensor]] = [[] for _ in self.policies]

    @torch.no_grad()
    def _forward(self, tokens: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """Run tokens (B, q) through the model on the cache; returns their logits (B, q, V),
        or only the last token's (B, 1, V)."""
        if self.end + tokens.shape[1] > self.capacity:
            raise ValueError(f"more than capacity={self.capacity} tokens")
        position_ids = torch.arange(self.end, self.end + tokens.shape[1], device=tokens.device)
        with self._masks_fitted_per_layer():
            output = self.model(
                input_ids=tokens,
                past_key_values=self.cache,
                position_ids=position_ids.unsqueeze(0),
                use_cache=True,
                output_attentions=True,
                logits_to_keep=1 if last_only else 0,
            )
        new = position_ids.expand(tokens.shape[0], self.kv_heads, -1).cpu()
        for layer, attention in enumerate(output.attentions):
            known = self.positions[layer]
            self.positions[layer] = new if known is None else torch.cat([known, new], dim=-1)
            b, heads, q, t = attention.shape
            grouped = attention.float().view(b, self.kv_heads, heads // self.kv_heads, q, t)
            self.pending[layer].append(self._absolute(layer, grouped.mean(2).cpu()))
        self.end += tokens.shape[1]
        return output.logits

    @contextmanager
    def _masks_fitted_per_layer(self) -> Iterator[None]:
        """While the model runs, every decoder layer gets a causal mask fitted to its cache."""
        layers = self.model.base_model.layers
        handles = [
            layer.register_forward_pre_hook(partial(self._fit_mask, index), with_kwargs=True)
            for index, layer in enumerate(layers)
        ]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _fit_mask(
        self, layer: int, module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]
    ) -> tuple[tuple, dict[str, Any]]:
        """Pre-hook of decoder layer `layer`: the model's additive mask (B, 1, q, T_0 + q) hides
        only later tokens of the chunk (its last q columns), so this layer's mask is those
        columns behind its own T cached tokens, all visible."""
        mask = kwargs.get("attention_mask")
        if mask is not None:
            new = mask.shape[-2]
            cached = self.cache.layers[layer].get_seq_length()
            kwargs["attention_mask"] = F.pad(mask[..., -new:], (cached, 0))
        return args, kwargs

    def _absolute(self, layer: int, physical: torch.Tensor) -> torch.Tensor:
        """Scatter (B, H, ..., T_cache) over the absolute positions (B, H, ..., capacity)."""
        index = self.positions[layer]
        index = index.view(*index.shape[:2], *([1] * (physical.dim() - 3)), index.shape[-1])
        target = physical.new_zeros(*physical.shape[:-1], self.capacity)
        return target.scatter_(-1, index.expand_as(physical), physical)

    def _evict(self) -> None:
        for layer, policy in enumerate(self.policies):
            rows = self.pending[layer]
            if not rows:
                continue
            attention = torch.cat(rows, dim=-2)[..., : self.end]
            self.pending[layer] = []
            cache_layer = self.cache.layers[layer]
            keys = cache_layer.keys.float().cpu()
            positions = self.positions[layer]
            assert positions is not None
            alive = torch.zeros(*positions.shape[:2], self.end, dtype=torch.bool)
            alive.scatter_(-1, positions, True)
            absolute_keys = keys.new_zeros(*keys.shape[:2], self.end, keys.shape[-1])
            absolute_keys.scatter_(2, positions.unsqueeze(-1).expand_as(keys), keys)
            view = CacheView(
                attention=attention.unsqueeze(1),
                keys=absolute_keys.unsqueeze(1),
                alive=alive.unsqueeze(1),
                end=self.end,
            )
            scores = policy.scores(view)
            if scores is None:
                continue
            budget = self.budget if policy.layer_budget is None else policy.layer_budget
            keep = select(scores, view.alive, budget, policy.threshold)[:, 0]
            count = int(keep.sum(-1).max())
            physical = torch.gather(scores[:, 0].masked_fill(~keep, float("-inf")), -1, positions)
            chosen = torch.topk(physical, count, dim=-1).indices.sort(dim=-1).values
            device_index = chosen.to(cache_layer.keys.device).unsqueeze(-1)
            gather = device_index.expand(-1, -1, -1, cache_layer.keys.shape[-1])
            cache_layer.keys = torch.gather(cache_layer.keys, 2, gather)
            cache_layer.values = torch.gather(cache_layer.values, 2, gather)
            self.positions[layer] = torch.gather(positions, -1, chosen)
        self.cache_sizes.append(self.cache.get_seq_length())

    def _prefill(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The prompt in n_up-token chunks, evicting after each; the last logits (B, V)."""
        self._start(input_ids.shape[0])
        logits = None
        for start in range(0, input_ids.shape[1], self.n_up):
            logits = self._forward(input_ids[:, start : start + self.n_up], last_only=True)[:, -1]
            self._evict()
        assert logits is not None
        return logits

    @torch.no_grad()
    def read(self, input_ids: torch.Tensor) -> ReadPrompt:
        """Feed the whole prompt (B, T) as one chunk (T <= n_up), evicting nothing yet."""
        if input_ids.shape[1] > self.n_up:
            raise ValueError(f"a prompt read in one chunk must be at most n_up={self.n_up}")
        self._start(input_ids.shape[0])
        logits = self._forward(input_ids, last_only=True)[:, -1]
        return ReadPrompt(self.cache, self.positions, self.pending, self.end, logits)

    def resume(self, prompt: ReadPrompt) -> torch.Tensor:
        """Start from a prompt `read` by any generator of this model and capacity, as
        `_prefill` would have left it with this generator's policies; its last logits."""
        self._start(prompt.logits.shape[0])
        self.cache = copy.deepcopy(prompt.cache)  # eviction replaces the layers' tensors
        self.positions, self.end = list(prompt.positions), prompt.end
        self.pending = [list(rows) for rows in prompt.pending]
        self._evict()
        return prompt.logits

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """Greedy decoding: the prompt in n_up-token chunks, then one token at a time, with
        eviction after every n_up tokens. Returns the new tokens (B, max_new_tokens)."""
        logits = self._prefill(input_ids)
        generated = []
        for step in range(max_new_tokens):
            token = logits.argmax(-1, keepdim=True)
            generated.append(token)
            if step + 1 < max_new_tokens:
                logits = self._step(token, step)
        return torch.cat(generated, dim=1)

    @torch.no_grad()
    def answer_logits(
        self, prompt: torch.Tensor | ReadPrompt, answer: torch.Tensor
    ) -> torch.Tensor:
        """Logits (B, T, V) of each answer token, decoded as `generate` decodes but fed the
        given answer instead of its own argmax: their argmax is `generate`'s output wherever
        that agrees with the answer so far, so the greedy answer is the given one exactly
        when every argmax matches. The prompt is token ids or a `ReadPrompt`."""
        start = self.resume(prompt) if isinstance(prompt, ReadPrompt) else self._prefill(prompt)
        logits = [start]
        for step in range(answer.shape[1] - 1):
            logits.append(self._step(answer[:, step : step + 1], step))
        return torch.stack(logits, dim=1)

    def _step(self, token: torch.Tensor, step: int) -> torch.Tensor:
        """Decoding step `step` (from 0): feed one token (B, 1); evict every n_up steps."""
        logits = self._forward(token)[:, -1]
        if (step + 1) % self.n_up == 0:
            self._evict()
        return logits

    @torch.no_grad()
    def predictions(self, input_ids: torch.Tensor, continuation: torch.Tensor) -> torch.Tensor:
        """Teacher-forced greedy predictions (B, T) of each continuation token: the prompt and
        the continuation are fed in n_up-token chunks, with eviction after every chunk."""
        self._start(input_ids.shape[0])
        tokens = torch.cat([input_ids, continuation[:, :-1]], dim=1)
        predicted = []
        for start in range(0, tokens.shape[1], self.n_up):
            predicted.append(self._forward(tokens[:, start : start + self.n_up]).argmax(-1))
            self._evict()
        return torch.cat(predicted, dim=1)[:, input_ids.shape[1] - 1 :]
