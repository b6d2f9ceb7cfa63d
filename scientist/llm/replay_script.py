"""The replay script: the answers a `ReplayServer` (`scientist.llm.replay_server`) gives.

Script format: a JSON list of entries, each one answer.

    [
      {"json": {"name": "wider_net", "title": "..."}},          # content = the JSON text
      {"text": "plain answer", "match": "Reflect"},             # picked by the user message
      {"status": 429, "headers": {"retry-after": "1"}},         # an error response
      {"text": "...", "usage": {"input_tokens": 10, "output_tokens": 3}}
    ]

- `text` or `json`: the answer. Anthropic requests that force a tool get a `tool_use`
  block when the answer is a JSON object, else a text block.
- `match` (optional): a substring, or a regular expression, searched in the last user
  message; a request takes the first unused entry whose `match` fits, else the first
  unused entry without `match`. Each entry answers once.
- `status` + `headers` (optional): answer with that HTTP error instead; `error` sets its
  message.
- `usage` (optional): token counts; by default about 4 characters of text per token, plus
  each image's tokens by its model's rule (`llm/image_tokens.py`), as the APIs count them,
  and the prompt cache the server keeps (`scientist.llm.replay_server`). A scripted usage
  may say how many of its `input_tokens` were read from the prompt cache
  (`cached_input_tokens`) and written to it (`cache_write_tokens`, reported on the
  Anthropic wire only: OpenAI reports no writes); both default to 0.
- `truncated` (optional): the answer stopped at the output-token limit (OpenAI
  `finish_reason: "length"`, Anthropic `stop_reason: "max_tokens"`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class ScriptUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cached_input_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _parts_of_input(self) -> ScriptUsage:
        if self.cached_input_tokens + self.cache_write_tokens > self.input_tokens:
            raise ValueError("cached and written tokens are parts of input_tokens")
        return self


class ScriptEntry(BaseModel):
    """One scripted answer (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str | None = None
    json_value: Any = Field(default=None, alias="json")
    match: str | None = None
    status: int | None = Field(default=None, ge=400, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    error: str = "scripted error"
    usage: ScriptUsage | None = None
    truncated: bool = False

    @model_validator(mode="after")
    def _one_answer(self) -> ScriptEntry:
        answers = (self.text is not None) + (self.json_value is not None)
        if self.status is None and answers != 1:
            raise ValueError("an entry needs exactly one of 'text' or 'json' (or a 'status')")
        return self

    @property
    def content(self) -> str:
        return self.text if self.text is not None else json.dumps(self.json_value)

    def matches(self, text: str) -> bool:
        if self.match is None:
            return False
        if self.match in text:
            return True
        try:
            return re.search(self.match, text) is not None
        except re.error:
            return False


ENTRIES = TypeAdapter(list[ScriptEntry])


def load_script(path: Path) -> list[ScriptEntry]:
    return ENTRIES.validate_json(Path(path).read_bytes())
