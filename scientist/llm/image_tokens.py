"""The input tokens an image costs, by the providers' published rules; which rule and which
numbers a model gets is its row's `images` in the model-family table (`families.toml`).

- OpenAI, `detail: auto` billed as `high` (the worst case; `openai_message` sends `auto`):
  GPT-4o, GPT-4.1, GPT-5, o1 and o3 fit the image within 2048x2048, shrink it until its
  shortest side is at most 768 px, then charge a base plus a price per 512-px tile (85 + 170
  for GPT-4o and GPT-4.1, 70 + 140 for GPT-5, 75 + 150 for o1 and o3, 2833 + 5667 for
  GPT-4o mini). The mini and nano models of GPT-4.1 and GPT-5 and o4-mini count 32-px patches,
  at most 1536, times a multiplier (1.62, 2.46, 1.72).
- Anthropic: about width x height / 750, after fitting the long edge within 1568 px and the
  whole image within about 1600 tokens.
- Any other model (an OpenAI-compatible server's vision model): width x height / 750 at
  full size, a little above the one token per 28x28 pixels that open vision models such as
  Qwen2-VL spend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scientist.llm.families import family_of
from scientist.llm.images import Image

PIXELS_PER_TOKEN = 750


@dataclass(frozen=True)
class Tiles:
    """OpenAI's tile rule: `base` plus `per_tile` for each 512-px tile of the resized image."""

    base: int
    per_tile: int

    def tokens(self, width: int, height: int) -> int:
        width, height = _scaled(width, height, 2048 / max(width, height))
        width, height = _scaled(width, height, 768 / min(width, height))
        return self.base + self.per_tile * math.ceil(width / 512) * math.ceil(height / 512)


@dataclass(frozen=True)
class Patches:
    """OpenAI's patch rule: 32-px patches (at most 1536) times `multiplier`."""

    multiplier: float

    def tokens(self, width: int, height: int) -> int:
        patches = min(math.ceil(width / 32) * math.ceil(height / 32), 1536)
        return math.ceil(patches * self.multiplier)


@dataclass(frozen=True)
class Area:
    """Anthropic's rule: pixels / 750, the long edge fitted within `max_side` and the count
    capped at `max_tokens` (None: neither bound)."""

    max_side: int | None = None
    max_tokens: int | None = None

    def tokens(self, width: int, height: int) -> int:
        if self.max_side is not None:
            width, height = _scaled(width, height, self.max_side / max(width, height))
        tokens = math.ceil(width * height / PIXELS_PER_TOKEN)
        return tokens if self.max_tokens is None else min(tokens, self.max_tokens)


Rule = Tiles | Patches | Area

UNKNOWN = Area()


def rule_of(spec: str) -> Rule:
    """Model `spec`'s billing rule, from its row of the model-family table."""
    images = family_of(spec).images
    if images.tiles is not None:
        return Tiles(*images.tiles)
    if images.patches is not None:
        return Patches(images.patches)
    if images.area is not None:
        return Area(max_side=images.area.max_side, max_tokens=images.area.max_tokens)
    return UNKNOWN


def image_tokens(spec: str, width: int, height: int) -> int:
    """The input tokens model `spec` is charged for one `width` x `height` image."""
    return rule_of(spec).tokens(width, height)


def images_tokens(spec: str, images: list[Image]) -> int:
    """The input tokens of all `images` sent to model `spec` in one request."""
    return sum(image_tokens(spec, image.width, image.height) for image in images)


def _scaled(width: int, height: int, factor: float) -> tuple[int, int]:
    """The size shrunk by `factor` when it is below 1 (never enlarged), whole pixels."""
    if factor >= 1:
        return width, height
    return max(int(width * factor), 1), max(int(height * factor), 1)
