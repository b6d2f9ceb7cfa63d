"""The writer's prompts (`scientist/prompts/write/*.md`) and the one call that sends them."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from pydantic import BaseModel

from scientist.llm.base import Message

PROMPTS = Path(__file__).resolve().parent.parent / "prompts" / "write"
ROLE = "write"


def render(name: str, **fields: str) -> str:
    """Fill `$name` placeholders (`$`, not braces, so LaTeX in prompts needs no escaping)."""
    return Template((PROMPTS / f"{name}.md").read_text(encoding="utf-8")).substitute(fields)


def ask(llm: Any, prompt: str, *, schema: type[BaseModel], **fields: str) -> Any:
    """Send the system prompt and `prompt` filled with `fields`; the validated answer."""
    messages = [
        Message(role="system", content=render("system")),
        Message(role="user", content=render(prompt, **fields)),
    ]
    return llm.complete(ROLE, messages, schema=schema).parsed
