"""The one call that sends the writer's prompts (`scientist/prompts/write/*.md`)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from scientist.llm import Message, RoleModel
from scientist.prompts import render_prompt

Answer = TypeVar("Answer", bound=BaseModel)


def ask(model: RoleModel, request: str, *, schema: type[Answer], material: str = "") -> Answer:
    """Send the writer's system prompt and `request`; the answer, validated by `schema`.
    `material` shared by several requests goes before `request` in a message of its own that
    ends the requests' cached prefix."""
    messages = [Message(role="system", content=render_prompt("write/system"))]
    if material:
        messages.append(Message(role="user", content=material, cache_prefix=True))
    messages.append(Message(role="user", content=request))
    return model.complete(messages, schema=schema).parsed
