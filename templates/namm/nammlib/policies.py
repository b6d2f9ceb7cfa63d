"""Eviction policies for a per-(layer, head) KV cache.

Every policy turns what the cache has seen into a score per cached token (higher = keep);
`select` then keeps the `budget` best-scoring live tokens. NAMM also evicts every token
scoring below zero, so its cache can shrink below the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import cycle

import torch
import torch.nn.functional as F

from nammlib.scorer import BackwardAttentionScorer, ScorerSpec, SpectrogramMemory

POLICIES = (
    "full",
    "recency",
    "h2o",
    "l2",
    "l2_inverted",
    "random",
    "oracle",
    "snapkv",
    "pyramidkv",
    "namm",
)


@dataclass
class CacheView:
    """What a policy sees after a chunk: tensors shaped (B, L, H, ...) over T cached slots."""

    attention: torch.Tensor  # (B, L, H, queries, T) weights from the chunk's queries
    keys: torch.Tensor  # (B, L, H, T, d_head)
    alive: torch.Tensor  # (B, L, H, T) bool
    end: int  # number of tokens processed so far (= T)


def select(
    scores: torch.Tensor, alive: torch.Tensor, budget: int, threshold: float | None
) -> torch.Tensor:
    """Keep at most `budget` live tokens per row, the highest scores first."""
    scores = scores.masked_fill(~alive, float("-inf"))
    keep = alive.clone()
    if threshold is not None:
        keep &= scores >= threshold
    if budget < scores.shape[-1]:
        top = torch.topk(scores, budget, dim=-1, sorted=False).indices
        capped = torch.zeros_like(alive).scatter_(-1, top, True)
        keep &= capped
    return keep


class Policy:
    """Base: a named scoring rule; `start` is called once per batch of prompts."""

    name = "full"
    threshold: float | None = None
    layer_budget: int | None = None  # replaces the cache's budget for this layer (HF path)

    def start(self, lead: tuple[int, ...], capacity: int, pair_positions: torch.Tensor) -> None:
        """lead = (B, L, H); pair_positions (B, n_pairs, 2) is used only by the oracle."""

    def scores(self, view: CacheView) -> torch.Tensor | None:
        """None keeps everything (the full cache)."""
        return None


class Recency(Policy):
    """StreamingLLM: `sinks` first tokens plus the most recent ones."""

    name = "recency"

    def __init__(self, sinks: int = 4) -> None:
        self.sinks = sinks

    def scores(self, view: CacheView) -> torch.Tensor:
        position = torch.arange(view.end, dtype=torch.float32)
        position[: self.sinks] = float("inf")
        return position.expand_as(view.alive)


class HeavyHitters(Policy):
    """H2O: accumulated attention received, with the newest `recent_share` of the budget kept."""

    name = "h2o"

    def __init__(self, budget: int, recent_share: float = 0.5) -> None:
        self.recent = int(budget * recent_share)
        self.total: torch.Tensor | None = None

    def start(self, lead, capacity, pair_positions) -> None:
        self.total = torch.zeros(*lead, capacity)

    def scores(self, view: CacheView) -> torch.Tensor:
        assert self.total is not None
        self.total[..., : view.end] += view.attention.sum(-2)
        scores = self.total[..., : view.end].clone()
        if self.recent:
            scores[..., -self.recent :] = float("inf")
        return scores


class KeyNorm(Policy):
    """L2 (Devoto et al. 2024): keep the lowest key norms; `inverted` keeps the highest."""

    def __init__(self, inverted: bool = False) -> None:
        self.sign = 1.0 if inverted else -1.0
        self.name = "l2_inverted" if inverted else "l2"

    def scores(self, view: CacheView) -> torch.Tensor:
        return self.sign * view.keys.norm(dim=-1)


class RandomEviction(Policy):
    name = "random"

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def scores(self, view: CacheView) -> torch.Tensor:
        return torch.rand(view.alive.shape, generator=self.generator)


class Oracle(Policy):
    """Keeps the key and value tokens of the queried pairs first, then the most recent."""

    name = "oracle"

    def start(self, lead, capacity, pair_positions) -> None:
        batch = lead[0]
        needed = torch.zeros(batch, capacity)
        needed.scatter_(1, pair_positions.reshape(batch, -1), 1.0)
        self.bonus = needed.view(batch, *([1] * (len(lead) - 1)), capacity) * capacity

    def scores(self, view: CacheView) -> torch.Tensor:
        position = torch.arange(view.end, dtype=torch.float32)
        return (self.bonus[..., : view.end] + position).expand_as(view.alive)


class SnapKV(Policy):
    """SnapKV (Li et al. 2024): a token's score is the attention it receives from the newest
    `window` queries (the observation window), pooled over `kernel` neighbouring keys
    (average or max); the window's own tokens are always kept. Published, it evicts once,
    after the prompt (one chunk holding the whole prompt); at every later eviction it scores
    again from the newest `window` queries seen since the previous one."""

    name = "snapkv"

    def __init__(self, window: int = 32, kernel: int = 7, pooling: str = "avg") -> None:
        if pooling not in ("avg", "max") or kernel % 2 == 0:
            raise ValueError("SnapKV needs pooling 'avg' or 'max' and an odd kernel")
        self.window, self.kernel, self.pooling = window, kernel, pooling

    def scores(self, view: CacheView) -> torch.Tensor:
        votes = view.attention[..., -self.window :, :].sum(-2)
        flat = votes.reshape(-1, 1, view.end)
        pool = F.avg_pool1d if self.pooling == "avg" else F.max_pool1d
        pooled = pool(flat, self.kernel, stride=1, padding=self.kernel // 2)
        scores = pooled.reshape(votes.shape).clone()
        scores[..., -self.window :] = float("inf")
        return scores


def pyramid_budgets(budget: int, n_layers: int, spread: float = 0.9) -> list[int]:
    """PyramidKV's (Cai et al. 2024) per-layer budgets: linear from budget x (1 + spread) at
    the lowest layer to budget x (1 - spread) at the top, summing to n_layers x budget."""
    if n_layers == 1:
        return [budget]
    slope = [1 + spread * (1 - 2 * layer / (n_layers - 1)) for layer in range(n_layers)]
    budgets = [max(1, round(budget * factor)) for factor in slope]
    budgets[0] += n_layers * budget - sum(budgets)
    return budgets


class PyramidKV(SnapKV):
    """SnapKV's scores under this layer's budget from `pyramid_budgets`."""

    name = "pyramidkv"

    def __init__(self, layer_budget: int, window: int = 32, kernel: int = 7) -> None:
        super().__init__(window, kernel)
        self.layer_budget = layer_budget


class Namm(Policy):
    """The evolved memory model: spectrogram features -> backward attention -> score."""

    name = "namm"
    threshold = 0.0

    def __init__(self, spec: ScorerSpec, params: torch.Tensor, name: str = "namm") -> None:
        self.spec = spec
        self.scorer = BackwardAttentionScorer(spec, params)
        self.name = name

    def start(self, lead, capacity, pair_positions) -> None:
        self.memory = SpectrogramMemory(self.spec, lead, capacity)

    def scores(self, view: CacheView) -> torch.Tensor:
        age = (view.end - 1 - torch.arange(view.end)).float()
        features = self.memory.features(view.attention, age)
        n_features = features.shape[-1]
        features = features.reshape(-1, view.end, n_features)
        alive = view.alive.reshape(-1, view.end)
        # Score only live tokens: gather them to the front, keeping their order.
        order = torch.sort((~alive).to(torch.uint8), dim=-1, stable=True).indices
        width = int(alive.sum(-1).max())
        order = order[:, :width]
        packed = torch.gather(features, 1, order.unsqueeze(-1).expand(-1, -1, n_features))
        packed_scores = self.scorer(packed, torch.gather(alive, 1, order))
        scores = torch.full_like(alive, float("-inf"), dtype=torch.float32)
        scores.scatter_(1, order, packed_scores)
        scores = scores.view(view.alive.shape)
        scores[..., -1] = float("inf")  # the newest token is always kept
        return scores


def make_policy(
    name: str, budget: int, seed: int, sinks: int = 4, layer: int = 0, n_layers: int = 1
) -> Policy:
    """A hand-designed policy by name (NAMM is built from its evolved parameters); `layer`
    of `n_layers` sets PyramidKV's budget."""
    if name == "full":
        return Policy()
    if name == "recency":
        return Recency(sinks)
    if name == "h2o":
        return HeavyHitters(budget)
    if name in ("l2", "l2_inverted"):
        return KeyNorm(inverted=name == "l2_inverted")
    if name == "random":
        return RandomEviction(seed)
    if name == "oracle":
        return Oracle()
    if name == "snapkv":
        return SnapKV()
    if name == "pyramidkv":
        return PyramidKV(pyramid_budgets(budget, n_layers)[layer])
    raise ValueError(f"unknown policy '{name}'; known: {', '.join(POLICIES)}")


def per_layer(name: str, budget: int, seed: int, sinks: int, n_layers: int) -> Callable[[], Policy]:
    """A factory for the `EvictingGenerator`, which makes one policy per layer, lowest first:
    the k-th call of every round of `n_layers` makes layer k's policy."""
    layers = cycle(range(n_layers))
    return lambda: make_policy(name, budget, seed, sinks, next(layers), n_layers)
