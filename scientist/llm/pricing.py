"""Token prices (USD per 1M tokens) and the cost of a call.

The table ships in `prices.toml`; `models.prices` in a campaign config overrides or
extends it, keyed by the full spec (`openai:gpt-4o`) or the bare model name (`gpt-4o`).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from scientist.config import ModelsConfig
from scientist.models import Usage

PAID_KINDS = ("openai", "anthropic")  # local and scripted models cost nothing
PRICES_FILE = Path(__file__).with_name("prices.toml")
CHARS_PER_TOKEN = 3.0  # conservative: estimates err towards more tokens

Price = tuple[float, float]


@cache
def shipped_prices() -> dict[str, Price]:
    """The shipped table as `provider:model -> (input, output)`."""
    table = tomllib.loads(PRICES_FILE.read_text(encoding="utf-8"))
    return {
        f"{provider}:{model}": (float(price[0]), float(price[1]))
        for provider, models in table.items()
        for model, price in models.items()
    }


def estimate_tokens(text_chars: int) -> int:
    """A worst-case token count for `text_chars` characters of prompt."""
    return int(text_chars / CHARS_PER_TOKEN) + 1


class PriceTable:
    """Looks up a model spec's price: exact name first, then the longest dated prefix."""

    def __init__(self, overrides: dict[str, Price] | None = None) -> None:
        self._prices = dict(shipped_prices())
        for key, (input_price, output_price) in (overrides or {}).items():
            self._prices[key] = (float(input_price), float(output_price))

    def price(self, spec: str) -> Price | None:
        _, _, bare = spec.partition(":")
        for name in (spec, bare) if bare else (spec,):
            if name in self._prices:
                return self._prices[name]
        candidates = [
            key
            for key in self._prices
            if any(name.startswith(key + "-") for name in (spec, bare) if name)
        ]
        return self._prices[max(candidates, key=len)] if candidates else None

    def usage(
        self, spec: str, input_tokens: int, output_tokens: int, image_tokens: int = 0
    ) -> Usage:
        """What a request cost; `image_tokens` says how many of `input_tokens` were images."""
        tokens = Usage(
            input_tokens=input_tokens, output_tokens=output_tokens, image_tokens=image_tokens
        )
        price = self.price(spec)
        if price is None:
            return tokens.model_copy(update={"priced": False})
        cost = (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
        image_usd = image_tokens * price[0] / 1_000_000
        return tokens.model_copy(update={"cost_usd": cost, "image_usd": image_usd})

    def worst_case_usd(
        self, spec: str, prompt_chars: int, max_tokens: int, image_tokens: int = 0
    ) -> float:
        """The most a request can cost: estimated prompt tokens, its images' tokens, and all
        of `max_tokens`."""
        return self.usage(spec, estimate_tokens(prompt_chars) + image_tokens, max_tokens).cost_usd


def add_usage(total: Usage, more: Usage) -> Usage:
    return Usage(
        input_tokens=total.input_tokens + more.input_tokens,
        output_tokens=total.output_tokens + more.output_tokens,
        cost_usd=total.cost_usd + more.cost_usd,
        priced=total.priced and more.priced,
        image_tokens=total.image_tokens + more.image_tokens,
        image_usd=total.image_usd + more.image_usd,
    )


def unpriced_models(config: ModelsConfig) -> list[str]:
    """The configured paid models that have no price (they would be counted as $0)."""
    table = PriceTable(config.prices)
    roles = ("default", "ideas", "code", "write", "review")
    specs = {spec for role in roles for spec in config.for_role(role)}
    return sorted(
        spec for spec in specs if spec.split(":", 1)[0] in PAID_KINDS and table.price(spec) is None
    )
