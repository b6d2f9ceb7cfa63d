"""NAMM evicting from a prompt read once, its spectrogram computed once for every genome.

When every policy evicts from the same read prompt (`EvictingGenerator.resume`), a layer's
first eviction sees the same attention whatever the genome, so its spectrogram features,
which cost most of an evaluation on a real model, are the same too: only the scorer network
that turns them into scores differs. `FirstFeatures` keeps them, with the memory's state
after them, per layer of one read prompt; the first policy to evict fills it, every later
one takes them from it and goes on from the same state, as if it had computed them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import cycle

import torch

from nammlib.policies import Namm, Policy
from nammlib.scorer import ScorerSpec, SpectrogramMemory

FirstFeatures = dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
"""Per layer: the first eviction's features, and the memory's state and tail after it."""


class RememberedSpectrogram(SpectrogramMemory):
    def __init__(
        self,
        spec: ScorerSpec,
        lead: tuple[int, ...],
        capacity: int,
        first: FirstFeatures,
        layer: int,
    ) -> None:
        super().__init__(spec, lead, capacity)
        self.first, self.layer, self.updated = first, layer, False

    def features(self, attention: torch.Tensor, age: torch.Tensor) -> torch.Tensor:
        if self.updated:
            return super().features(attention, age)
        self.updated = True
        if self.layer in self.first:
            features, state, tail = self.first[self.layer]
            self.state, self.tail = state.clone(), tail.clone()
            return features
        features = super().features(attention, age)
        self.first[self.layer] = (features, self.state.clone(), self.tail.clone())
        return features


class ReadNamm(Namm):
    """NAMM at `layer`, its first features shared through `first`."""

    def __init__(
        self, spec: ScorerSpec, params: torch.Tensor, first: FirstFeatures, layer: int
    ) -> None:
        super().__init__(spec, params)
        self.first, self.layer = first, layer

    def start(self, lead, capacity, pair_positions) -> None:
        self.memory = RememberedSpectrogram(self.spec, lead, capacity, self.first, self.layer)


def read_namm(
    spec: ScorerSpec, params: torch.Tensor, first: FirstFeatures, n_layers: int
) -> Callable[[], Policy]:
    """A factory for the `EvictingGenerator` (one policy per layer, lowest first) of NAMM
    policies sharing `first`, which must belong to the one read prompt they all evict from."""
    layers = cycle(range(n_layers))
    return lambda: ReadNamm(spec, params, first, next(layers))
