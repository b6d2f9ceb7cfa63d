"""Structured output: JSON schemas for providers, parsing and validation, repair prompts."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from scientist.llm.base import Message
from scientist.prompts import render_prompt

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def strict_json_schema(schema: type[BaseModel]) -> dict[str, Any] | None:
    """The schema in OpenAI's strict form, or None when strict mode cannot express it.

    Strict mode needs every property required and no open-ended objects; a model with
    defaults or `dict` fields falls back to JSON mode plus validation.
    """
    document = json_schema(schema)

    def visit(node: Any) -> bool:
        if isinstance(node, list):
            return all(visit(item) for item in node)
        if not isinstance(node, dict):
            return True
        if node.get("type") == "object" or "properties" in node:
            properties = node.get("properties", {})
            if not properties or set(node.get("required", [])) != set(properties):
                return False
            if node.get("additionalProperties") not in (None, False):
                return False
            node["additionalProperties"] = False
        if "default" in node:
            return False
        return all(visit(value) for value in node.values())

    return document if visit(document) else None


def schema_name(schema: type[BaseModel]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64] or "answer"


def json_instructions(schema: type[BaseModel]) -> Message:
    """A system message asking for JSON valid against `schema` (for non-native paths)."""
    text = render_prompt("llm/json_instructions", schema=json.dumps(json_schema(schema)))
    return Message(role="system", content=text)


def with_instructions(messages: list[Message], schema: type[BaseModel]) -> list[Message]:
    """`messages` with the JSON instructions after their leading system messages: the same
    text for every request of `schema`, so it stays inside the prompt cache's prefix."""
    leading = next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))
    return [*messages[:leading], json_instructions(schema), *messages[leading:]]


def extract_json(text: str) -> Any:
    """Parse the JSON object in `text`, tolerating Markdown fences and surrounding prose."""
    candidates = [text.strip()]
    candidates += [match.strip() for match in _FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    error: json.JSONDecodeError | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            error = error or exc
    assert error is not None
    raise error


def parse_as(text: str, schema: type[BaseModel]) -> BaseModel:
    """Validate `text` as `schema`; raises ValueError with a message fit to show the model."""
    try:
        data = extract_json(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc})") from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise ValueError(f"the JSON does not match the schema ({problems})") from None


def repair_messages(messages: list[Message], bad_output: str, error: str) -> list[Message]:
    """The conversation extended by the bad answer and what was wrong with it."""
    return [
        *messages,
        Message(role="assistant", content=bad_output),
        Message(role="user", content=render_prompt("llm/repair", error=error)),
    ]
