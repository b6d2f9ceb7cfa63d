"""Constrained decoding for local transformers models: a JSON answer valid against a schema.

`lm-format-enforcer` walks a character-level JSON-schema parser alongside generation and
tells, before each token, which tokens keep the text a prefix of a valid answer; a logits
processor masks every other token. So the decoded answer parses and validates against the
pydantic schema, unless `max_new_tokens` cuts it short (the caller's repair loop then
fixes what it can). Used only where the library is installed and can express the schema:
otherwise `json_constraint` returns None and the answer is decoded unconstrained (the
schema stated in the prompt, and the repair loop).

Only the library's core (parser and token enforcer) is used: its transformers integration
imports modules transformers 5 no longer has, so the logits processor is this module's.
Three gaps of the library are closed here: integer bounds become enums, a token that could
put a control character or half a character into the text is never written, and an object
or list never closes right after a comma. The per-tokenizer table (every token's text, and
which tokens start a word) costs two decodes per token (about a second for SmolLM2's 49,152),
so a provider builds it once (`token_table`) and reuses it for every request.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from pydantic import BaseModel

from scientist.llm.structured import json_schema

ENFORCER = "lmformatenforcer"
MAX_BLANKS = 8
"""The most blank characters in a row the answer may hold (a small model can loop on them)."""
ENUMERATED_RANGE = 100
"""An integer field bounded to at most this many values is decoded as the list of them: the
library checks no `minimum`/`maximum`, but it does check an enum."""


def constraint_available() -> bool:
    """Whether the JSON-schema constraint library is installed."""
    return importlib.util.find_spec(ENFORCER) is not None


def bounded_integers_as_enums(node: Any) -> Any:
    """A JSON schema with each integer field bounded on both sides (`Field(ge=1, le=10)`)
    given the enum of its values as well, so its bounds hold during decoding."""
    if isinstance(node, list):
        return [bounded_integers_as_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    found = {key: bounded_integers_as_enums(value) for key, value in node.items()}
    low, high = found.get("minimum"), found.get("maximum")
    bounded = isinstance(low, int) and isinstance(high, int) and 0 <= high - low < ENUMERATED_RANGE
    if found.get("type") == "integer" and bounded and "enum" not in found:
        found["enum"] = list(range(low, high + 1))
    return found


def _stop_ids(tokenizer: Any, model: Any) -> list[int]:
    """The tokens that end an answer: the tokenizer's end-of-text and the model's."""
    found = [tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)]
    ids: list[int] = []
    for item in found:
        ids += item if isinstance(item, list) else [item] if item is not None else []
    return sorted(set(ids))


def writable(text: str) -> bool:
    """Whether a token's text may stand in a JSON answer: printable characters and line
    breaks. Not a tab or other control character, which the library would let into a string
    unescaped, nor a byte of a longer character ("\ufffd" alone), whose text changes once
    the rest of the character follows and so no longer matches what the parser saw."""
    return bool(text) and all(
        (char.isprintable() and char != "\ufffd") or char in "\n\r" for char in text
    )


def token_table(tokenizer: Any, model: Any) -> Any:
    """What the enforcer needs to know about a tokenizer: each ordinary token's text as it
    reads after another token (so a word-starting token keeps its leading space), whether it
    starts a word, and the tokens that end the answer. Tokens whose text is not `writable`
    are left out, so never written."""
    from lmformatenforcer import TokenEnforcerTokenizerData

    special = set(tokenizer.all_special_ids)
    vocab_size = max(len(tokenizer), model.config.vocab_size)
    anchor = tokenizer.encode("0", add_special_tokens=False)[-1]
    rows: list[tuple[int, str, bool]] = []
    for token in range(len(tokenizer)):
        if token in special:
            continue
        after_anchor = tokenizer.decode([anchor, token])[1:]
        alone = tokenizer.decode([token])
        if writable(after_anchor):
            rows.append((token, after_anchor, len(after_anchor) > len(alone)))

    def decode(tokens: list[int]) -> str:
        return tokenizer.decode(tokens).rstrip("\ufffd")  # a partial character is not text yet

    return TokenEnforcerTokenizerData(rows, decode, _stop_ids(tokenizer, model), False, vocab_size)


class CommaWatch:
    """Reads a JSON answer as it grows and tells whether it ends, blanks aside, with a comma
    outside any string: a point where the library would let an object close (`{"a": 1,}`),
    which no JSON parser accepts."""

    def __init__(self) -> None:
        self._read = ""
        self._in_string = self._escaped = False
        self._last = ""

    def after_comma(self, text: str) -> bool:
        if not text.startswith(self._read):  # the text changed behind us: read it afresh
            self._read, self._in_string, self._escaped, self._last = "", False, False, ""
        for char in text[len(self._read) :]:
            if self._escaped:
                self._escaped = False
            elif self._in_string and char == "\\":
                self._escaped = True
            elif char == '"':
                self._in_string, self._last = not self._in_string, char
            elif not self._in_string and not char.isspace():
                self._last = char
        self._read = text
        return not self._in_string and self._last == ","


class JsonConstraint:
    """A transformers logits processor that leaves only the tokens the schema allows next:
    no closing bracket right after a comma, and only the end of the answer once the JSON
    value is complete (no trailing blanks). For one answer (a batch of one) at a time."""

    def __init__(self, enforcer: Any, stop_ids: list[int], closers: set[int]) -> None:
        self._enforcer = enforcer
        self._stop_ids = stop_ids
        self._closers = closers
        self._prompt_length: int | None = None
        self._commas = CommaWatch()

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        [sequence] = input_ids.tolist()
        if self._prompt_length is None:
            self._prompt_length = len(sequence)
        allowed = self._enforcer.get_allowed_tokens(sequence).allowed_tokens
        if any(token in allowed for token in self._stop_ids):
            allowed = self._stop_ids
        elif self._commas.after_comma(self._enforcer.decoder(sequence[self._prompt_length :])):
            allowed = [token for token in allowed if token not in self._closers]
        mask = torch.full_like(scores, float("-inf"))
        mask[0, allowed] = 0.0
        return scores + mask


def text_alphabet(alphabet: str) -> str:
    """The characters a JSON string may hold as they are: printable ones (a line break or any
    other control character must be escaped)."""
    return "".join(char for char in alphabet if char.isprintable())


def json_constraint(table: Any, schema: type[BaseModel]) -> JsonConstraint | None:
    """A constraint for one answer of `schema`, or None when the library cannot express it."""
    from lmformatenforcer import CharacterLevelParserConfig, JsonSchemaParser, TokenEnforcer

    config = CharacterLevelParserConfig(
        alphabet=text_alphabet(table.tokenizer_alphabet),
        max_consecutive_whitespaces=MAX_BLANKS,
        force_json_field_order=True,  # the schema's order: each field after those it builds on
    )
    try:
        parser = JsonSchemaParser(bounded_integers_as_enums(json_schema(schema)), config)
    except Exception as exc:  # the library's own errors for a schema it cannot read
        logging.getLogger(__name__).warning(
            "%s cannot be decoded under a constraint (%s); decoding it unconstrained",
            schema.__name__,
            exc,
        )
        return None
    enforcer = TokenEnforcer(table, parser)
    parser.config = config  # the enforcer set it to the tokenizer's whole alphabet
    closers = {token for token, text, _ in table.regular_tokens if text.lstrip()[:1] in ("}", "]")}
    return JsonConstraint(enforcer, table.eos_token_id, closers)
