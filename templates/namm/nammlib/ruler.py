"""An offline RULER-style suite (Hsieh et al. 2024): retrieval of numbers hidden in filler.

* `passkey`: a 5-digit pass key is stated once at a random depth of the filler; the question
  asks for it.
* `multikey`: 4 words each get a 5-digit number, stated at random depths; the question asks
  for one word's number.

The filler is the docstrings of standard-library modules and of their public functions and
classes, in a fixed order, with digits removed (so no number competes with the needles). An
instance is a pure function of (task, length, seed, index), the tokenizer and the Python
version (whose standard library the docstrings come from): the prompt is
`length` tokens give or take a few (the filler is cut in tokens, then decoded and the needles
put in at sentence starts), posed as a user turn of the tokenizer's chat template when it has
one, and ends with an answer prefix ("The pass key is"); the answer is the digits.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import random
import re
from dataclasses import dataclass
from typing import Any

TASKS = ("passkey", "multikey")
FILLER_MODULES = (
    "argparse",
    "collections",
    "csv",
    "datetime",
    "functools",
    "inspect",
    "itertools",
    "json",
    "logging",
    "os",
    "pathlib",
    "random",
    "re",
    "shutil",
    "statistics",
    "string",
    "textwrap",
    "typing",
)
WORDS = ("apple", "river", "candle", "harbor", "violet", "tiger", "marble", "lantern")
N_KEYS = 4
INTRO = (
    "A few important numbers are hidden in the long text below. Find them and remember "
    "them; you will be asked about one of them.\n\n"
)


HELD_OUT = 10_000
"""Instances from this index on are held out; lower indices are left for evolving a scorer."""


class RulerError(ValueError):
    """An instance the suite cannot build (a length too short or too long for the filler)."""


@dataclass(frozen=True)
class Instance:
    task: str
    length: int
    seed: int
    index: int
    prompt_ids: list[int]
    answer_ids: list[int]
    answer: str


@functools.cache
def filler_text() -> str:
    """The docstrings of FILLER_MODULES and their public members, each once, digits removed."""
    seen: set[str] = set()
    parts = []
    for name in FILLER_MODULES:
        module = importlib.import_module(name)
        members = [module] + [
            member
            for attribute, member in sorted(vars(module).items())
            if not attribute.startswith("_")
            and (inspect.isclass(member) or inspect.isroutine(member))
        ]
        for member in members:
            doc = inspect.getdoc(member)
            if doc and doc not in seen:
                seen.add(doc)
                parts.append(doc)
    return re.sub(r"[0-9]", "", "\n\n".join(parts))


class RulerSuite:
    """Instances of the suite for one tokenizer (a `transformers` tokenizer)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.templated = getattr(tokenizer, "chat_template", None) is not None
        self.corpus = self.encode(filler_text())

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=not self.templated)["input_ids"])

    def render(self, context: str, question: str, prefix: str) -> str:
        content = f"{INTRO}{context}\n\n{question}"
        if not self.templated:
            return f"{content}\n{prefix}"
        chat = [{"role": "user", "content": content}]
        opening = self.tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=True
        )
        return opening + prefix

    def instance(self, task: str, length: int, seed: int, index: int) -> Instance:
        if task not in TASKS:
            raise RulerError(f"unknown task '{task}'; known: {', '.join(TASKS)}")
        rng = random.Random(f"{task}/{length}/{seed}/{index}")
        if task == "passkey":
            key = str(rng.randrange(10_000, 100_000))
            needles = [f"The pass key is {key}. Remember it. {key} is the pass key."]
            question, prefix, answer = "What is the pass key?", "The pass key is", key
        else:
            words = rng.sample(WORDS, N_KEYS)
            keys = [str(rng.randrange(10_000, 100_000)) for _ in words]
            needles = [
                f"The special magic number for {w} is: {k}."
                for w, k in zip(words, keys, strict=True)
            ]
            asked = rng.randrange(N_KEYS)
            question = f"What is the special magic number for {words[asked]}?"
            prefix, answer = f"The special magic number for {words[asked]} is", keys[asked]
        fixed = len(self.encode(self.render(" ".join(needles), question, prefix)))
        n_filler = length - fixed
        if n_filler < 16 or n_filler >= len(self.corpus):
            raise RulerError(f"a {task} prompt of {length} tokens leaves {n_filler} for filler")
        start = rng.randrange(len(self.corpus) - n_filler)
        filler = self.tokenizer.decode(self.corpus[start : start + n_filler])
        context = hide(filler, needles, [rng.random() for _ in needles])
        return self.finish(
            task, length, seed, index, self.render(context, question, prefix), answer
        )

    def finish(
        self, task: str, length: int, seed: int, index: int, text: str, answer: str
    ) -> Instance:
        """Split `text` + " " + `answer` into the prompt's tokens and the answer's: the space
        goes with the prompt where the tokenizer keeps it a token of its own."""
        full = self.encode(f"{text} {answer}")
        for prompt_text in (f"{text} ", text):
            prompt = self.encode(prompt_text)
            if full[: len(prompt)] == prompt and len(prompt) < len(full):
                return Instance(task, length, seed, index, prompt, full[len(prompt) :], answer)
        raise RulerError("the tokenizer does not split the answer from its prompt")


def hide(filler: str, needles: list[str], depths: list[float]) -> str:
    """Put each needle at its depth (0..1) of `filler`, at the next sentence start."""
    spots = []
    for needle, depth in zip(needles, depths, strict=True):
        at = int(depth * len(filler))
        found = re.search(r"[.\n]\s+", filler[at:])
        spots.append((at + found.end() if found else len(filler), needle))
    pieces, last = [], 0
    for at, needle in sorted(spots):
        pieces += [filler[last:at], needle, " "]
        last = at
    return "".join(pieces) + filler[last:]
