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
tokens as its most retentive head keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache, PreTrainedModel

from nammlib.policies import CacheView, Policy, select


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
    def _forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Run tokens (B, q) through the model on the cache; returns their logits (B, q, V)."""
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
            keep = select(scores, view.alive, self.budget, policy.threshold)[:, 0]
            count = int(keep.sum(-1).max())
            physical = torch.gather(scores[:, 0].masked_fill(~keep, float("-inf")), -1, positions)
            chosen = torch.topk(physical, count, dim=-1).indices.sort(dim=-1).values
            device_index = chosen.to(cache_layer.keys.device).unsqueeze(-1)
            gather = device_index.expand(-1, -1, -1, cache_layer.keys.shape[-1])
            cache_layer.keys = torch.gather(cache_layer.keys, 2, gather)
            cache_layer.values = torch.gather(cache_layer.values, 2, gather)
            self.positions[layer] = torch.gather(positions, -1, chosen)
        self.cache_sizes.append(self.cache.get_seq_length())

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """Greedy decoding: the prompt in n_up-token chunks, then one token at a time, with
        eviction after every n_up tokens. Returns the new tokens (B, max_new_tokens)."""
        self._start(input_ids.shape[0])
        logits = None
        for start in range(0, input_ids.shape[1], self.n_up):
            logits = self._forward(input_ids[:, start : start + self.n_up])[:, -1]
            self._evict()
        assert logits is not None
        generated = []
        for step in range(max_new_tokens):
            token = logits.argmax(-1, keepdim=True)
            generated.append(token)
            if step + 1 < max_new_tokens:
                logits = self._forward(token)[:, -1]
                if (step + 1) % self.n_up == 0:
                    self._evict()
        return torch.cat(generated, dim=1)

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
