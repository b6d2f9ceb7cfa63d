"""Data-flow-space merging for Hugging Face decoder models: run a host through a layer path.

A path is a sequence of decoder layers taken from any of several loaded models of one
architecture (Llama-style: `model.base_model.layers`). The host keeps its embeddings, final
norm and head; its layer list is swapped for the path while a `with layer_path(...)` block
runs, each step scaling its input hidden state (the DFS scaling matrix entry for the layer
pair it joins). Nothing is copied: the path holds the source models' own layer modules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


class ScaledLayer(nn.Module):
    """A decoder layer run as step `index` of a path, on its input times `scale`.

    The same layer can occur at several steps, so its attention's cache slot (`layer_idx`)
    is set to the step right before it runs; `layer_path` restores the original slots.
    """

    def __init__(self, layer: nn.Module, scale: float, index: int) -> None:
        super().__init__()
        self.layer, self.scale, self.index = layer, scale, index

    def forward(self, hidden_states: torch.Tensor, *args, **kwargs):
        self.layer.self_attn.layer_idx = self.index
        return self.layer(hidden_states * self.scale, *args, **kwargs)


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    return model.base_model.layers


@contextmanager
def layer_path(
    host: nn.Module, layers: Sequence[nn.Module], scales: Sequence[float]
) -> Iterator[nn.Module]:
    """`host` with its decoder layers replaced by `layers` (input of step k times scales[k])."""
    if len(layers) != len(scales) or not layers:
        raise ValueError("a layer path needs one scale per layer and at least one layer")
    decoder, config = host.base_model, host.config
    saved = (decoder.layers, config.num_hidden_layers, getattr(config, "layer_types", None))
    slots = {id(layer): layer.self_attn.layer_idx for layer in layers}
    decoder.layers = nn.ModuleList(
        ScaledLayer(layer, scale, k)
        for k, (layer, scale) in enumerate(zip(layers, scales, strict=True))
    )
    config.num_hidden_layers = len(layers)
    if saved[2] is not None:
        kinds = [saved[2][layer.self_attn.layer_idx] for layer in layers]
        config.layer_types = kinds
    try:
        yield host
    finally:
        decoder.layers, config.num_hidden_layers = saved[0], saved[1]
        if saved[2] is not None:
            config.layer_types = saved[2]
        for layer in layers:
            layer.self_attn.layer_idx = slots[id(layer)]
