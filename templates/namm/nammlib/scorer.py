"""NAMM's scorer: attention spectrogram features and a backward-attention memory network.

Each cached token's attention from the latest queries is a time series; an STFT with a
periodic Hann window turns it into a spectrogram, whose frames are folded into an
exponential moving average that persists across eviction steps. A tiny network with a
counter-causal mask (token i attends only to tokens j >= i) maps the features, plus a
sinusoidal embedding of the token's age, to one score per token; a score below zero evicts.
One parameter vector is shared by every layer and head, so it is evolved, not trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def hann_window(n_fft: int) -> torch.Tensor:
    """The periodic Hann window (scipy.signal.get_window('hann', n_fft))."""
    return torch.hann_window(n_fft, periodic=True, dtype=torch.float64).float()


def windowed_dft(n_fft: int) -> torch.Tensor:
    """[real | imaginary] DFT matrix (n_fft, 2 bins) with the Hann window folded in."""
    n = torch.arange(n_fft, dtype=torch.float64).unsqueeze(1)
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64).unsqueeze(0)
    angle = 2 * torch.pi * n * k / n_fft
    window = hann_window(n_fft).double().unsqueeze(1)
    return torch.cat([window * torch.cos(angle), -window * torch.sin(angle)], dim=1).float()


def stft_magnitudes(series: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """|STFT| of series (..., S) -> (..., frames, n_fft // 2 + 1), no padding, no scaling.

    A matrix product with the windowed DFT: for frames this short it is far faster on a CPU
    than torch.fft.rfft, and it is the same transform.
    """
    frames = series.unfold(-1, n_fft, hop)
    spectrum = frames.reshape(-1, n_fft) @ windowed_dft(n_fft)
    bins = n_fft // 2 + 1
    magnitude = torch.sqrt(spectrum[:, :bins] ** 2 + spectrum[:, bins:] ** 2)
    return magnitude.view(*frames.shape[:-1], bins)


def ema_over_frames(frames: torch.Tensor, state: torch.Tensor, gamma: float) -> torch.Tensor:
    """Fold frames (..., F, bins) into state (..., bins): s <- gamma s + (1 - gamma) frame."""
    for index in range(frames.shape[-2]):
        state = gamma * state + (1.0 - gamma) * frames[..., index, :]
    return state


def age_embedding(age: torch.Tensor, dims: int) -> torch.Tensor:
    """Sinusoidal embedding (..., dims) of token ages, periods from 4 to 512 tokens."""
    if dims == 0:
        return age.new_zeros(*age.shape, 0)
    periods = torch.logspace(math.log10(4.0), math.log10(512.0), dims // 2)
    angle = age.unsqueeze(-1) * (2 * math.pi / periods)
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)


@dataclass(frozen=True)
class ScorerSpec:
    n_fft: int = 8
    hop: int = 4
    gamma: float = 0.9
    hidden: int = 8
    age_dims: int = 4
    use_stft: bool = True
    counter_causal: bool = True

    @property
    def n_features(self) -> int:
        bins = self.n_fft // 2 + 1 if self.use_stft else 1
        return bins + self.age_dims

    def shapes(self) -> dict[str, tuple[int, ...]]:
        d, f = self.hidden, self.n_features
        return {
            "w_in": (f, d),
            "b_in": (d,),
            "w_q": (d, d),
            "w_k": (d, d),
            "w_v": (d, d),
            "w_mlp": (d, d),
            "b_mlp": (d,),
            "w_out": (d,),
            "b_out": (1,),
        }

    @property
    def n_params(self) -> int:
        return sum(math.prod(shape) for shape in self.shapes().values())


class BackwardAttentionScorer:
    """Scores tokens from a flat parameter vector (the CMA-ES genome)."""

    def __init__(self, spec: ScorerSpec, params: torch.Tensor) -> None:
        if params.numel() != spec.n_params:
            raise ValueError(f"expected {spec.n_params} parameters, got {params.numel()}")
        self.spec = spec
        self.weights: dict[str, torch.Tensor] = {}
        offset = 0
        for name, shape in spec.shapes().items():
            size = math.prod(shape)
            self.weights[name] = params[offset : offset + size].view(shape).float()
            offset += size

    def __call__(self, features: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
        """features (N, T, F), alive (N, T) bool -> scores (N, T); dead tokens score -inf."""
        w = self.weights
        h = torch.tanh(features @ w["w_in"] + w["b_in"])
        q, k, v = h @ w["w_q"], h @ w["w_k"], h @ w["w_v"]
        t = features.shape[1]
        index = torch.arange(t)
        if self.spec.counter_causal:
            allowed = index.unsqueeze(0) >= index.unsqueeze(1)  # row i sees columns j >= i
        else:
            allowed = index.unsqueeze(0) <= index.unsqueeze(1)
        mask = allowed.unsqueeze(0) & alive.unsqueeze(1)
        mask = mask | torch.eye(t, dtype=torch.bool).unsqueeze(0)
        logits = (q @ k.transpose(1, 2)) / math.sqrt(self.spec.hidden)
        h = h + torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1) @ v
        h = h + F.gelu(h @ w["w_mlp"] + w["b_mlp"])
        scores = h @ w["w_out"] + w["b_out"]
        return scores.masked_fill(~alive, float("-inf"))


class SpectrogramMemory:
    """Per-token EMA of attention spectrograms, carried across eviction steps."""

    def __init__(self, spec: ScorerSpec, lead: tuple[int, ...], capacity: int) -> None:
        self.spec = spec
        bins = spec.n_fft // 2 + 1 if spec.use_stft else 1
        self.state = torch.zeros(*lead, capacity, bins)
        self.tail = torch.zeros(*lead, max(0, spec.n_fft - spec.hop), capacity)

    def update(self, attention: torch.Tensor) -> torch.Tensor:
        """attention (*lead, queries, T) from the latest chunk -> features (*lead, T, bins).

        The previous chunk's last n_fft - hop rows are prepended so frames straddle chunks.
        Attention is scaled by the number of cached tokens, so uniform attention reads as 1.
        """
        t = attention.shape[-1]
        visible = (attention > 0).sum(-1, keepdim=True).clamp(min=1)
        scaled = attention * visible
        series = torch.cat([self.tail[..., :t], scaled], dim=-2).transpose(-1, -2)
        state = self.state[..., :t, :]
        if self.spec.use_stft:
            if series.shape[-1] >= self.spec.n_fft:
                frames = stft_magnitudes(series, self.spec.n_fft, self.spec.hop)
                state = ema_over_frames(frames, state, self.spec.gamma)
        else:
            state = ema_over_frames(series.unsqueeze(-1), state, self.spec.gamma)
        self.state[..., :t, :] = state
        keep = self.tail.shape[-2]
        if keep:
            self.tail[..., :t] = series.transpose(-1, -2)[..., -keep:, :]
        return torch.log1p(state)

    def features(self, attention: torch.Tensor, age: torch.Tensor) -> torch.Tensor:
        """Spectrogram EMA features joined with the age embedding: (*lead, T, n_features)."""
        spectral = self.update(attention)
        ages = age_embedding(age, self.spec.age_dims).expand(*spectral.shape[:-1], -1)
        return torch.cat([spectral, ages], dim=-1)
