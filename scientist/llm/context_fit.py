"""A conversation cut to fit a model's context window, saying so where it was cut.

A local model's window is read from its config; a prompt longer than the window (less the
room kept for the answer) loses the middle of its longest message, replaced by a line that
says how much went, so the instructions at its start and the question at its end survive.
"""

from __future__ import annotations

from collections.abc import Callable

from scientist.errors import LLMProviderError
from scientist.llm.base import Message

MAX_CUTS = 8
SLACK_CHARS = 64


def cut_note(chars: int, window: int) -> str:
    return (
        f"\n[... {chars} characters cut here to fit the model's context window "
        f"of {window} tokens ...]\n"
    )


def cut_middle(text: str, chars: int, window: int) -> str:
    """`text` without `chars` characters from its middle, marked."""
    keep = max(len(text) - chars, 0)
    head, tail = keep // 2, keep - keep // 2
    return text[:head] + cut_note(len(text) - keep, window) + text[len(text) - tail :]


def fit_messages(
    messages: list[Message],
    count_tokens: Callable[[list[Message]], int],
    limit: int,
    window: int,
) -> list[Message]:
    """`messages` rendered in at most `limit` tokens (`count_tokens` renders and counts);
    the longest message loses more of its middle until they fit. Raises `LLMProviderError`
    when no cut can make them fit."""
    longest = max(range(len(messages)), key=lambda index: len(messages[index].content))
    content = messages[longest].content
    fitted, cut = messages, 0
    for _ in range(MAX_CUTS):
        total = count_tokens(fitted)
        if total <= limit:
            return fitted
        chars = sum(len(message.content) for message in fitted)
        cut += int((total - limit) * max(chars, 1) / total) + SLACK_CHARS
        if cut >= len(content):
            break
        shorter = messages[longest].model_copy(update={"content": cut_middle(content, cut, window)})
        fitted = [*messages[:longest], shorter, *messages[longest + 1 :]]
    raise LLMProviderError(
        f"a prompt of {count_tokens(messages)} tokens does not fit in {limit} tokens of a "
        f"{window}-token context window"
    )
