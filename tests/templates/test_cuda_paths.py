"""Both packs' CUDA paths give what their CPU paths give (runs only where CUDA is available).

The merge operators on CUDA tensors (float32 and bf16, in place into a resident model), layer
paths on a CUDA host, and NAMM's shrinking cache for a CUDA Llama, each against the same
computation on the CPU.
"""

from __future__ import annotations

import copy

import pytest
import torch
from merge_fixtures import tiny_llama_config  # also puts the merge pack on sys.path
from mergepack.hf_paths import decoder_layers, layer_path
from mergepack.merging import Recipe, merge_state_dicts
from namm_fixtures import single_thread, tiny_llama  # noqa: F401  (also puts the NAMM pack on sys.path)
from nammlib.hf_eviction import EvictingGenerator
from nammlib.hf_study import HFEvictionTask
from nammlib.policies import Namm, Policy, make_policy
from nammlib.scorer import ScorerSpec

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
OPERATORS = ("linear", "task_arithmetic", "ties", "dare_ties", "dare_linear")


@pytest.fixture(scope="module")
def family() -> dict[str, dict[str, torch.Tensor]]:
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    base = LlamaForCausalLM(tiny_llama_config()).state_dict()
    generator = torch.Generator().manual_seed(1)
    states = {"base": base}
    for name in ("a", "b"):
        states[name] = {
            k: v + 0.05 * torch.randn(v.shape, generator=generator) for k, v in base.items()
        }
    return states


def on(state: dict[str, torch.Tensor], device: str, dtype: torch.dtype) -> dict:
    return {k: v.to(device=device, dtype=dtype) for k, v in state.items()}


@pytest.mark.parametrize("method", OPERATORS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_merges_on_cuda_equal_the_cpu_merge(family, method, dtype) -> None:
    recipe = Recipe(method, [0.7, 0.6], [0.5, 0.4], weights={"head": [1.2, -0.3]})
    # the same inputs, rounded to `dtype`, merged on the CPU: the TIES and DARE masks are
    # the same function of those inputs on both devices (exact threshold, ties by index,
    # counter-based drops), so only float rounding of the merged values may differ
    cpu_base, cpu_a, cpu_b = (on(family[k], "cpu", dtype) for k in ("base", "a", "b"))
    expected = merge_state_dicts(recipe, cpu_base, [cpu_a, cpu_b], seed=3)
    base, a, b = (on(family[k], "cuda", dtype) for k in ("base", "a", "b"))
    resident = {k: torch.empty_like(v) for k, v in base.items()}
    merged = merge_state_dicts(recipe, base, [a, b], seed=3, out=resident)
    flipped = total = 0
    for name, value in expected.items():
        assert merged[name].device.type == "cuda" and merged[name].dtype == dtype
        assert merged[name].data_ptr() == resident[name].data_ptr()
        difference = (merged[name].float().cpu() - value.float()).abs()
        if dtype == torch.float32:
            assert difference.max() <= 1e-5
        flipped += int((difference > 3e-2).sum())
        total += difference.numel()
    # in bf16, a merged value one float32 rounding apart may round to a neighbouring bf16
    # value (a few entries of a small tensor can be a large share of it, so count over the
    # whole model)
    assert flipped <= 0.01 * total


def test_a_cuda_host_through_its_own_layers_is_the_host() -> None:
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    host = LlamaForCausalLM(tiny_llama_config()).cuda().eval()
    donor = copy.deepcopy(host)
    tokens = torch.randint(0, 64, (2, 12), device="cuda")
    with torch.no_grad():
        expected = host(tokens).logits
        layers = list(decoder_layers(donor))
        with layer_path(host, layers, [1.0] * len(layers)) as merged:
            got = merged(tokens).logits
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@pytest.fixture(scope="module")
def llama_pair():
    cpu = tiny_llama()
    return cpu, copy.deepcopy(cpu).cuda()


@pytest.mark.parametrize("policy", ["full", "recency", "h2o", "l2", "random", "namm"])
def test_eviction_on_cuda_matches_the_cpu(llama_pair, policy) -> None:
    cpu, cuda = llama_pair
    prompt = torch.randint(96, (2, 40), generator=torch.Generator().manual_seed(0))
    spec = ScorerSpec(n_fft=8, hop=4, hidden=4, age_dims=4)
    genome = 0.3 * torch.randn(spec.n_params, generator=torch.Generator().manual_seed(2))

    def make() -> Policy:
        if policy == "namm":
            return Namm(spec, genome)
        return make_policy(policy, 16, 0)

    results = []
    for model in (cpu, cuda):
        runner = EvictingGenerator(model, make, 16, 8, capacity=52)
        tokens = runner.generate(prompt.to(model.device), 12)
        assert tokens.device.type == model.device.type
        results.append((tokens.cpu(), list(runner.cache_sizes)))
    (cpu_tokens, cpu_sizes), (cuda_tokens, cuda_sizes) = results
    assert cuda_sizes == cpu_sizes
    agreement = (cpu_tokens == cuda_tokens).float().mean().item()
    assert agreement >= 0.9, f"CUDA and CPU decodes agree on only {agreement:.2f} of tokens"


def test_the_hf_task_scores_a_cuda_model(llama_pair) -> None:
    _, cuda = llama_pair
    prompts = torch.randint(96, (4, 32), generator=torch.Generator().manual_seed(4))
    task = HFEvictionTask(cuda, prompts, 8, 8, 8)
    accuracy, retained = task.score(Policy, slice(0, 4))
    assert accuracy == 1.0 and retained == 1.0
    accuracy, retained = task.score(lambda: make_policy("h2o", 8, 0), slice(2, 4))
    assert 0.0 <= accuracy <= 1.0 and retained <= 8 / (32 + 8 - 1)
