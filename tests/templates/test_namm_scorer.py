"""NAMM features match a SciPy/NumPy reference; the backward mask is really counter-causal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from namm_fixtures import single_thread  # noqa: F401  (also puts the pack on sys.path)
from nammlib.policies import CacheView, Namm
from nammlib.scorer import (
    BackwardAttentionScorer,
    ScorerSpec,
    SpectrogramMemory,
    ema_over_frames,
    stft_magnitudes,
)
from scipy.signal import get_window, stft


@pytest.mark.parametrize(("n_fft", "hop"), [(8, 4), (16, 4), (4, 2)])
def test_stft_magnitudes_match_scipy(n_fft: int, hop: int) -> None:
    series = np.random.default_rng(0).random(40)
    _, _, reference = stft(
        series,
        window="hann",
        nperseg=n_fft,
        noverlap=n_fft - hop,
        boundary=None,
        padded=False,
        detrend=False,
    )
    reference = np.abs(reference).T * get_window("hann", n_fft).sum()  # undo scipy's scaling
    ours = stft_magnitudes(torch.tensor(series, dtype=torch.float32), n_fft, hop)
    np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-5, atol=1e-5)


def test_memory_over_two_chunks_equals_ema_of_the_whole_spectrogram() -> None:
    """Chunks straddled by the carried tail give the STFT of the uninterrupted series."""
    spec = ScorerSpec(n_fft=8, hop=4, gamma=0.8, age_dims=0)
    tokens, chunk = 5, 12
    rng = np.random.default_rng(1)
    attention = rng.random((2 * chunk, tokens)) + 0.1
    attention /= attention.sum(1, keepdims=True)
    memory = SpectrogramMemory(spec, (1,), tokens)
    memory.update(torch.tensor(attention[:chunk], dtype=torch.float32).unsqueeze(0))
    ours = memory.update(torch.tensor(attention[chunk:], dtype=torch.float32).unsqueeze(0))[0]

    padded = np.concatenate([np.zeros((spec.n_fft - spec.hop, tokens)), attention * tokens])
    window = get_window("hann", spec.n_fft)
    state = np.zeros((tokens, spec.n_fft // 2 + 1))
    for start in range(0, len(padded) - spec.n_fft + 1, spec.hop):
        frame = np.abs(np.fft.rfft(padded[start : start + spec.n_fft].T * window, axis=-1))
        state = spec.gamma * state + (1 - spec.gamma) * frame
    np.testing.assert_allclose(ours.numpy(), np.log1p(state), rtol=1e-4, atol=1e-5)


def test_ema_over_frames_is_the_exponential_moving_average() -> None:
    frames = torch.tensor([[[1.0], [2.0], [4.0]]])
    folded = ema_over_frames(frames, torch.zeros(1, 1), 0.5)
    assert folded.item() == pytest.approx(((0.5 * 0.5) + 1.0) * 0.5 + 2.0)


def scorer(counter_causal: bool) -> BackwardAttentionScorer:
    spec = ScorerSpec(counter_causal=counter_causal)
    params = torch.randn(spec.n_params, generator=torch.Generator().manual_seed(0))
    return BackwardAttentionScorer(spec, params)


def test_counter_causal_scores_ignore_earlier_tokens_and_see_later_ones() -> None:
    net = scorer(counter_causal=True)
    features = torch.randn(1, 10, net.spec.n_features, generator=torch.Generator().manual_seed(1))
    alive = torch.ones(1, 10, dtype=torch.bool)
    base = net(features, alive)
    earlier, later = features.clone(), features.clone()
    earlier[:, :4] += 3.0
    later[:, 8:] += 3.0
    torch.testing.assert_close(net(earlier, alive)[:, 4:], base[:, 4:])
    assert not torch.allclose(net(later, alive)[:, :8], base[:, :8])


def test_causal_ablation_is_the_mirror_image() -> None:
    net = scorer(counter_causal=False)
    features = torch.randn(1, 10, net.spec.n_features, generator=torch.Generator().manual_seed(1))
    alive = torch.ones(1, 10, dtype=torch.bool)
    base = net(features, alive)
    later = features.clone()
    later[:, 6:] += 3.0
    torch.testing.assert_close(net(later, alive)[:, :6], base[:, :6])


def test_dead_tokens_neither_score_nor_influence() -> None:
    net = scorer(counter_causal=True)
    features = torch.randn(1, 8, net.spec.n_features, generator=torch.Generator().manual_seed(2))
    alive = torch.ones(1, 8, dtype=torch.bool)
    alive[:, 5] = False
    base = net(features, alive)
    changed = features.clone()
    changed[:, 5] += 10.0
    torch.testing.assert_close(net(changed, alive), base)
    assert base[0, 5].item() == float("-inf")


def test_zero_genome_keeps_every_token() -> None:
    spec = ScorerSpec()
    net = BackwardAttentionScorer(spec, torch.zeros(spec.n_params))
    scores = net(torch.randn(2, 6, spec.n_features), torch.ones(2, 6, dtype=torch.bool))
    assert torch.all(scores == 0)


def test_genome_size_is_checked() -> None:
    with pytest.raises(ValueError, match="parameters"):
        BackwardAttentionScorer(ScorerSpec(), torch.zeros(3))


def test_namm_policy_scores_packed_live_tokens_like_the_unpacked_scorer() -> None:
    """Gathering live tokens to the front before scoring changes no score."""
    spec = ScorerSpec()
    genome = torch.randn(spec.n_params, generator=torch.Generator().manual_seed(4))
    generator = torch.Generator().manual_seed(5)
    attention = torch.rand(2, 1, 2, 4, 12, generator=generator)
    alive = torch.rand(2, 1, 2, 12, generator=generator) > 0.4
    alive[..., -1] = True
    attention = attention * alive.unsqueeze(-2)
    view = CacheView(attention, torch.zeros(2, 1, 2, 12, 4), alive, end=12)
    policy = Namm(spec, genome)
    policy.start((2, 1, 2), 12, torch.zeros(2, 1, 2, dtype=torch.long))
    packed = policy.scores(view)

    memory = SpectrogramMemory(spec, (2, 1, 2), 12)
    features = memory.features(attention, (11 - torch.arange(12)).float())
    direct = BackwardAttentionScorer(spec, genome)(
        features.reshape(4, 12, -1), alive.reshape(4, 12)
    )
    direct = direct.view(2, 1, 2, 12)
    torch.testing.assert_close(packed[..., :-1], direct[..., :-1])
    assert torch.all(packed[..., -1] == float("inf"))
