"""Synthetic skills for the real-model study: a word cipher, word reversal, and a target that
needs both.

A lexicon of common English words is mapped, by a seeded draw, to made-up words of two
consonant-vowel syllables ("language 2"). Every item is a short list of distinct lexicon words:

- ``cipher``:  "Zel: cat dog sun =" -> the words in language 2, in order;
- ``reverse``: "Rev: cat dog sun =" -> the English words in reverse order;
- ``target``:  "Rev Zel: cat dog sun =" -> the words in language 2, in reverse order.

The ordered word lists are split once, by a seeded shuffle, into train / dev / test lists that
share no list, so a held-out item was never trained on (its words were: the cipher is a
dictionary). An item is scored by teacher forcing: it is right when the model's most likely
next token equals the answer's token at every answer position (greedy decoding would emit the
same answer), so a split is scored in one batched forward pass.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import torch

LEXICON = (
    "cat",
    "dog",
    "sun",
    "tree",
    "fish",
    "bird",
    "milk",
    "rain",
    "book",
    "door",
    "king",
    "ship",
    "gold",
    "lamp",
    "road",
    "wolf",
    "snow",
    "bread",
    "horse",
    "stone",
    "river",
    "cloud",
    "apple",
    "chair",
)
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
PROMPTS = {"cipher": "Zel: {} =", "reverse": "Rev: {} =", "target": "Rev Zel: {} ="}
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Item:
    prompt: str
    answer: str


def cipher_table(seed: int) -> dict[str, str]:
    """English word -> a distinct made-up word of two consonant-vowel syllables."""
    rng = random.Random(seed)
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    words: list[str] = []
    while len(words) < len(LEXICON):
        word = rng.choice(syllables) + rng.choice(syllables)
        if word not in words:
            words.append(word)
    return dict(zip(LEXICON, words, strict=True))


class SkillWorld:
    """The cipher and the disjoint train / dev / test word lists of one study."""

    def __init__(self, seed: int, words_per_item: int, dev_size: int, test_size: int) -> None:
        self.table = cipher_table(seed)
        lists = list(itertools.permutations(LEXICON, words_per_item))
        random.Random(seed + 1).shuffle(lists)
        held_out = dev_size + test_size
        if held_out >= len(lists):
            raise ValueError(f"dev_size + test_size must stay below {len(lists)} word lists")
        self.lists = {
            "dev": lists[:dev_size],
            "test": lists[dev_size:held_out],
            "train": lists[held_out:],
        }

    def item(self, task: str, words: tuple[str, ...]) -> Item:
        answers = {
            "cipher": [self.table[w] for w in words],
            "reverse": list(reversed(words)),
            "target": [self.table[w] for w in reversed(words)],
        }
        return Item(PROMPTS[task].format(" ".join(words)), " " + " ".join(answers[task]))

    def items(self, task: str, split: str, count: int | None = None) -> list[Item]:
        return [self.item(task, words) for words in self.lists[split][:count]]


def encode(tokenizer, items: list[Item]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, attention mask, answer mask) of right-padded prompt + answer sequences."""
    rows, answer_rows = [], []
    for item in items:
        prompt = tokenizer(item.prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(item.answer, add_special_tokens=False)["input_ids"]
        rows.append(prompt + answer)
        answer_rows.append([0] * len(prompt) + [1] * len(answer))
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    answers = torch.tensor([r + [0] * (width - len(r)) for r in answer_rows])
    return ids, mask, answers


def answer_scores(
    model: torch.nn.Module, batch: tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per item: whether greedy next-token prediction reproduces its whole answer, the mean
    probability the model gives the answer's tokens, and the fraction of answer tokens it
    predicts (the logits are computed at answer positions only)."""
    ids, mask, answers = (t.to(model.device) for t in batch)
    with torch.no_grad():
        hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state
        targets = answers[:, 1:].bool()
        logits = model.lm_head(hidden[:, :-1][targets]).float()
    truth = ids[:, 1:][targets]
    hits = torch.ones_like(targets)
    hits[targets] = logits.argmax(-1) == truth
    probability = torch.zeros(targets.shape, device=ids.device)
    probability[targets] = logits.softmax(-1).gather(1, truth[:, None])[:, 0]
    counts = targets.sum(1)
    token_accuracy = (hits & targets).sum(1) / counts
    return hits.all(dim=1), probability.sum(1) / counts, token_accuracy
