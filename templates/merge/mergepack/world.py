"""The synthetic two-language world.

Ten digit *concepts* are written in two languages. A language-2 token shares its concept
with a language-1 token (the model's embedding and output row for it are the language-1
row plus one learned language vector): a stand-in for the subwords that English and
Japanese text share. Tasks:

- ``add_l1``: addition without carries (digit sums <= 9) in language 1 ("English math", A)
- ``tr_12``:  translation from language 1 to language 2 (language-2 competence, skill B)
- ``add_l2``: the same addition written in language 2 ("Japanese math", the target C)
- ``add_l1``, ``copy_l1``, ``copy_l2``, ``tr_21``: the pre-training mixture of the base

Arithmetic problems are numbered; numbers divisible by 4 are held out of every training
set and split into a dev set (fitness for the searches) and a test set (reported only).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

SPECIALS = ("<pad>", "<bos>", "+", "=", "<copy>", "<tr>")
PAD, BOS, PLUS, EQ, COPY, TRANSLATE = range(len(SPECIALS))
N_CONCEPTS = 10
N_LANGUAGES = 2
VOCAB_SIZE = len(SPECIALS) + N_LANGUAGES * N_CONCEPTS
IGNORE = -100
DIGIT_PAIRS = tuple((x, y) for x in range(10) for y in range(10) if x + y <= 9)
TASKS = ("add_l1", "add_l2", "tr_12", "tr_21", "copy_l1", "copy_l2")


def token(concept: int, language: int) -> int:
    """Token id of `concept` (0-9) written in `language` (0 or 1)."""
    return len(SPECIALS) + language * N_CONCEPTS + concept


@dataclass(frozen=True)
class Batch:
    """Token ids and next-token targets (IGNORE where no loss or accuracy is taken)."""

    tokens: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return self.tokens.shape[0]


def _sequences(prompts: list[list[int]], answers: list[list[int]]) -> Batch:
    rows = [p + a for p, a in zip(prompts, answers, strict=True)]
    width = max(len(r) for r in rows)
    tokens = torch.full((len(rows), width), PAD, dtype=torch.long)
    targets = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, (prompt, answer) in enumerate(zip(prompts, answers, strict=True)):
        row = prompt + answer
        tokens[i, : len(row)] = torch.tensor(row)
        start = len(prompt) - 1
        targets[i, start : start + len(answer)] = torch.tensor(answer)
    return Batch(tokens, targets)


def concat(batches: list[Batch]) -> Batch:
    """Stack batches of different widths, padding on the right."""
    width = max(b.tokens.shape[1] for b in batches)
    pad = [(width - b.tokens.shape[1]) for b in batches]
    tokens = [
        torch.nn.functional.pad(b.tokens, (0, p), value=PAD)
        for b, p in zip(batches, pad, strict=True)
    ]
    targets = [
        torch.nn.functional.pad(b.targets, (0, p), value=IGNORE)
        for b, p in zip(batches, pad, strict=True)
    ]
    return Batch(torch.cat(tokens), torch.cat(targets))


class World:
    """Problem generator for one digit count.

    A problem is a pair of numbers whose digit-wise sums never exceed 9 (addition without any
    carry); problem ids enumerate them, one base-55 digit per digit pair.
    """

    def __init__(self, digits: int) -> None:
        if digits < 1:
            raise ValueError("digits must be >= 1")
        self.digits = digits
        self.n_problems = len(DIGIT_PAIRS) ** digits

    def _operands(self, problem: int) -> tuple[list[int], list[int]]:
        a, b = [], []
        for _ in range(self.digits):
            problem, index = divmod(problem, len(DIGIT_PAIRS))
            x, y = DIGIT_PAIRS[index]
            a.append(x)
            b.append(y)
        return a, b

    def addition(self, problems: list[int], language: int) -> Batch:
        """``+ a1 b1 = s1 a2 b2 = s2 ...``: each answer digit follows its own operand pair."""
        tokens = torch.full((len(problems), 2 + 4 * self.digits), PAD, dtype=torch.long)
        targets = torch.full_like(tokens, IGNORE)
        tokens[:, 0], tokens[:, 1] = BOS, PLUS
        for row, problem in enumerate(problems):
            a, b = self._operands(problem)
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                at = 2 + 4 * i
                answer = token(x + y, language)
                tokens[row, at : at + 4] = torch.tensor(
                    [token(x, language), token(y, language), EQ, answer]
                )
                targets[row, at + 2] = answer
        return Batch(tokens, targets)

    def transfer(self, words: list[list[int]], source: int, target: int) -> Batch:
        """Copy (source == target) or translate digit strings between languages."""
        marker = COPY if source == target else TRANSLATE
        prompts = [[BOS, *(token(c, source) for c in w), marker] for w in words]
        answers = [[token(c, target) for c in w] for w in words]
        return _sequences(prompts, answers)

    def training_problems(self, n: int, rng: random.Random) -> list[int]:
        """Problems never used for evaluation (ids not divisible by 4)."""
        out = []
        while len(out) < n:
            problem = rng.randrange(self.n_problems)
            if problem % 4:
                out.append(problem)
        return out

    def heldout_problems(self, split: str, n: int, seed: int) -> list[int]:
        """Disjoint evaluation problems: dev ids are 0 mod 8, test ids are 4 mod 8."""
        offset = {"dev": 0, "test": 4}[split]
        pool = range(offset, self.n_problems, 8)
        return random.Random(seed).sample(pool, min(n, len(pool)))

    def task_batch(self, task: str, problems: list[int]) -> Batch:
        """The batch of `task` built from problem ids (words = the operand digits)."""
        if task == "add_l1":
            return self.addition(problems, 0)
        if task == "add_l2":
            return self.addition(problems, 1)
        words = [a + b for a, b in map(self._operands, problems)]
        source, target = {
            "tr_12": (0, 1),
            "tr_21": (1, 0),
            "copy_l1": (0, 0),
            "copy_l2": (1, 1),
        }[task]
        return self.transfer(words, source, target)

    def sample(self, mixture: dict[str, float], n: int, rng: random.Random) -> Batch:
        """A training batch of `n` sequences drawn from a task mixture."""
        tasks = list(mixture)
        picks = rng.choices(tasks, weights=[mixture[t] for t in tasks], k=n)
        parts = []
        for task in tasks:
            count = picks.count(task)
            if count:
                parts.append(self.task_batch(task, self.training_problems(count, rng)))
        return concat(parts)

    def eval_batch(self, task: str, split: str, n: int, seed: int) -> Batch:
        return self.task_batch(task, self.heldout_problems(split, n, seed))
