"""Model families: one row per family in `families.toml` holds its price, capabilities,
image-token rule and context window (the file's header says how a model finds its row)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FAMILIES_FILE = Path(__file__).with_name("families.toml")
SEPARATORS = ("-", ".")


class AreaRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_side: int | None = None
    max_tokens: int | None = None


class ImageRule(BaseModel):
    """How an image is billed: at most one of OpenAI's tiles or patches or Anthropic's area
    (none: pixels / 750 at full size)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiles: tuple[int, int] | None = None
    patches: float | None = None
    area: AreaRule | None = None


class Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    price: list[float] | None = Field(default=None, min_length=2, max_length=4)
    reasoning: bool = False
    vision: bool = False
    images: ImageRule = ImageRule()
    context: int | None = Field(default=None, gt=0)


def longest_prefix(name: str, keys: Iterable[str]) -> str | None:
    """The longest of `keys` that `name` is, or begins with followed by a separator."""
    found = [
        key for key in keys if name == key or name.startswith(tuple(key + s for s in SEPARATORS))
    ]
    return max(found, key=len) if found else None


@cache
def families() -> dict[str, Family]:
    """`provider:prefix -> Family`, each row completed by the rows it inherits from."""
    table: dict[str, dict[str, Any]] = tomllib.loads(FAMILIES_FILE.read_text(encoding="utf-8"))
    resolved: dict[str, Family] = {}
    for provider, rows in table.items():
        fields: dict[str, dict[str, Any]] = {}
        for name in sorted(rows, key=len):  # a prefix is shorter than what inherits it
            parent = longest_prefix(name, [key for key in fields if key != name])
            fields[name] = {**(fields[parent] if parent else {}), **rows[name]}
            resolved[f"{provider}:{name}"] = Family.model_validate(fields[name])
    return resolved


def family_of(spec: str) -> Family:
    """The family of model `spec` (`openai:gpt-4o-2024-08-06`); an unlisted one has no
    price, no special capability and the plain image rule."""
    provider, _, name = spec.partition(":")
    rows = families()
    prefixes = [key.partition(":")[2] for key in rows if key.startswith(provider + ":")]
    key = longest_prefix(name, prefixes)
    return rows[f"{provider}:{key}"] if key is not None else Family()
