"""The merge pack's synthetic world and tiny model: splits, answers, scoring."""

from __future__ import annotations

import random

import pytest
import torch
from merge_fixtures import PACK  # noqa: F401  (puts the pack on sys.path)
from mergepack.model import ModelConfig, TinyLM, forward_path, score
from mergepack.world import EQ, IGNORE, World, token


def test_dev_and_test_problems_are_disjoint_and_never_trained_on():
    world = World(3)
    dev = set(world.heldout_problems("dev", 500, 1))
    test = set(world.heldout_problems("test", 500, 1))
    train = set(world.training_problems(5000, random.Random(0)))
    assert len(dev) == len(test) == 500
    assert not dev & test and not (dev | test) & train


def test_addition_answers_are_carry_free_digit_sums_in_the_prompt_language():
    world = World(3)
    for problem in world.heldout_problems("test", 50, 0):
        batch = world.addition([problem], language=1)
        digits = batch.tokens[0, 2:].view(3, 4)
        a, b, total = (digits[:, k] - token(0, 1) for k in (0, 1, 3))
        assert (digits[:, 2] == EQ).all()
        assert ((a + b) == total).all() and (total <= 9).all()
        answer = batch.targets[0][batch.targets[0] != IGNORE]
        assert answer.tolist() == digits[:, 3].tolist()
    predicted_at = (batch.targets[0] != IGNORE).nonzero().flatten().tolist()
    assert all(batch.tokens[0, p].item() == EQ for p in predicted_at)


def test_translation_maps_concepts_across_languages():
    batch = World(2).task_batch("tr_12", [55 * 7 + 12])
    answer = batch.targets[0][batch.targets[0] != IGNORE].tolist()
    a, b = World(2)._operands(55 * 7 + 12)
    assert answer == [token(c, 1) for c in a + b]


def greedy_exact(model: TinyLM, batch) -> float:
    hits = []
    for tokens, targets in zip(batch.tokens, batch.targets, strict=True):
        positions = (targets != IGNORE).nonzero().flatten().tolist()
        sequence = tokens[: positions[0] + 1].clone()
        for _ in positions:
            next_token = model(sequence[None])[0, -1].argmax()
            sequence = torch.cat([sequence, next_token[None]])
        hits.append(sequence[positions[0] + 1 :].tolist() == targets[positions].tolist())
    return sum(hits) / len(hits)


@torch.no_grad()
def test_teacher_forced_exact_match_equals_greedy_decoding():
    torch.manual_seed(0)
    model = TinyLM(ModelConfig(d_model=16, n_heads=2, max_len=16)).eval()
    batch = World(1).task_batch("copy_l1", list(range(0, 55, 4)))
    # bias the head so a random model gets some answers right and some wrong
    model.head_concept.data = model.concept_emb.data * 50
    exact, soft = score(model(batch.tokens), batch)
    assert exact == pytest.approx(greedy_exact(model, batch))
    assert 0.0 <= soft <= 1.0


@torch.no_grad()
def test_forward_path_over_the_models_own_blocks_is_the_model():
    model = TinyLM(ModelConfig()).eval()
    tokens = World(3).task_batch("add_l1", [1234]).tokens
    via_path = forward_path(model, list(model.blocks), [1.0, 1.0], tokens)
    assert torch.allclose(via_path, model(tokens), atol=1e-6)
