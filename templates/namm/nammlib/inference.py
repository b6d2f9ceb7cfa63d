"""Chunked inference with an explicit KV cache and pluggable eviction.

The prompt is processed `n_up` tokens at a time. Each layer keeps keys and values for
every slot plus an `alive` mask per (layer, head); an evicted slot is masked out of every
later query, which is exactly what dropping it from a physical cache does. After each
context chunk the policy scores the cache of every layer and head (eviction is per layer,
from that layer's own attention), and `select` shrinks it to the budget. The query segment
is the last chunk; it is answered from whatever the cache kept.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import torch

from nammlib.policies import CacheView, Policy, select
from nammlib.world import SEP, Batch, RecallLM


@dataclass
class EpisodeResult:
    accuracy: torch.Tensor  # (B,) per-prompt recall accuracy
    logits: torch.Tensor  # (B, n_queries, vocab) at the query positions
    retained: float  # mean live slots when the queries are answered / context length
    keep_mask: torch.Tensor  # (B, L, H, context) bool: the cache the queries saw
    seconds: float
    eviction_seconds: float


@torch.no_grad()
def run_episode(
    model: RecallLM, batch: Batch, policy: Policy, budget: int, n_up: int
) -> EpisodeResult:
    began = time.perf_counter()
    tokens = batch.tokens
    size, length = tokens.shape
    context = int(batch.query_positions[0])
    spec = model.spec
    d_head = spec.d_model // spec.n_heads
    lead = (size, spec.n_layers, spec.n_heads)
    keys = torch.zeros(*lead, length, d_head)
    values = torch.zeros(*lead, length, d_head)
    alive = torch.zeros(*lead, length, dtype=torch.bool)
    policy.start(lead, context, batch.pair_positions)
    bounds = [*range(0, context, n_up), context, length]
    chunks = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    eviction_seconds = 0.0
    keep_mask = alive[..., :context]
    logits = None
    for start, end in chunks:
        previous = tokens[:, start - 1] if start else torch.full((size,), SEP)
        x = model.embed_tokens(tokens[:, start:end], previous)
        alive[..., start:end] = True
        causal = torch.arange(end).unsqueeze(0) <= torch.arange(start, end).unsqueeze(1)
        weights = []
        for layer, block in enumerate(model.blocks):
            q, k, v = block.heads(x)
            keys[:, layer, :, start:end] = k
            values[:, layer, :, start:end] = v
            visible = alive[:, layer, :, None, :end] & causal
            logits_qk = q @ keys[:, layer, :, :end].transpose(-1, -2) / math.sqrt(d_head)
            attention = torch.softmax(logits_qk.masked_fill(~visible, float("-inf")), dim=-1)
            weights.append(attention)
            x = block.finish(x, attention @ values[:, layer, :, :end])
        if end > context:
            logits = model.logits(x)[:, batch.query_positions - start]
            break
        scores_began = time.perf_counter()
        view = CacheView(
            attention=torch.stack(weights, dim=1),
            keys=keys[..., :end, :],
            alive=alive[..., :end],
            end=end,
        )
        scores = policy.scores(view)
        if scores is not None:
            alive[..., :end] = select(scores, view.alive, budget, policy.threshold)
        eviction_seconds += time.perf_counter() - scores_began
        keep_mask = alive[..., :context].clone()
    assert logits is not None
    accuracy = (logits.argmax(-1) == batch.answers).float().mean(dim=1)
    return EpisodeResult(
        accuracy=accuracy,
        logits=logits,
        retained=keep_mask.float().sum(-1).mean().item() / context,
        keep_mask=keep_mask,
        seconds=time.perf_counter() - began,
        eviction_seconds=eviction_seconds,
    )
