"""Data-flow-space merging of Hugging Face Llama checkpoints: layer paths with input scales."""

from __future__ import annotations

import pytest
import torch
from merge_fixtures import save_llama_family, tiny_llama_config
from mergepack.hf_paths import decoder_layers, layer_path
from transformers import LlamaForCausalLM

TOKENS = torch.randint(0, 64, (2, 12), generator=torch.Generator().manual_seed(3))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, LlamaForCausalLM]:
    paths = save_llama_family(tmp_path_factory.mktemp("llama"))
    return {k: LlamaForCausalLM.from_pretrained(p).eval() for k, p in paths.items()}


def logits(model: LlamaForCausalLM, tokens: torch.Tensor = TOKENS) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=tokens).logits


def test_the_host_own_path_with_unit_scales_is_the_host(models) -> None:
    host = models["model_a"]
    own = list(decoder_layers(host))
    with layer_path(host, own, [1.0, 1.0]) as merged:
        path_logits = logits(merged)
    assert list(decoder_layers(host)) == own and host.config.num_hidden_layers == 2
    assert torch.equal(path_logits, logits(host))


def test_a_path_across_two_checkpoints_equals_a_llama_built_from_those_layers(models) -> None:
    host, other = models["model_a"], models["model_b"]
    steps = [decoder_layers(host)[0], decoder_layers(other)[1], decoder_layers(other)[1]]
    scales = [1.0, 0.5, 1.5]
    with layer_path(host, steps, scales) as merged:
        path_logits = logits(merged)
    config = tiny_llama_config()
    config.num_hidden_layers = 3
    reference = LlamaForCausalLM(config).eval()
    state = {k: v for k, v in host.state_dict().items() if ".layers." not in k}
    for k, layer in enumerate(steps):
        state |= {f"model.layers.{k}.{n}": v for n, v in layer.state_dict().items()}
    reference.load_state_dict(state)
    for layer, scale in zip(decoder_layers(reference), scales, strict=True):
        layer.register_forward_pre_hook(
            lambda _, args, kwargs, s=scale: ((args[0] * s, *args[1:]), kwargs), with_kwargs=True
        )
    assert torch.allclose(path_logits, logits(reference), atol=1e-5)
    assert not torch.allclose(path_logits, logits(host), atol=1e-3)


def test_a_path_that_repeats_a_layer_decodes_with_the_cache_as_without(models) -> None:
    host, other = models["model_a"], models["model_b"]
    steps = [decoder_layers(host)[0], decoder_layers(other)[0], decoder_layers(host)[0]]
    prompt = TOKENS[:, :6]
    with layer_path(host, steps, [1.0, 0.8, 1.2]) as merged:
        cached = merged.generate(prompt, max_new_tokens=5, do_sample=False, min_new_tokens=5)
        tokens = prompt
        for _ in range(5):
            next_token = logits(merged, tokens)[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, next_token], dim=1)
    assert torch.equal(cached, tokens)
    assert [layer.self_attn.layer_idx for layer in decoder_layers(host)] == [0, 1]
