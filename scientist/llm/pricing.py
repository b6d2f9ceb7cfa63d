"""Token prices (USD per 1M tokens) and the cost of a call.

The prices ship in the model-family table (`families.toml`); `models.prices` in a campaign
config overrides or extends them, keyed by the full spec (`openai:gpt-4o`) or the bare model
name (`gpt-4o`).
A price is `[input, output]`, optionally followed by the price of cached input (tokens read
from the provider's prompt cache) and of cache writes (input written to it, Anthropic);
each one left out costs what uncached input costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from scientist.config import ROLES, ModelsConfig, is_offline
from scientist.llm.families import families, longest_prefix
from scientist.llm.registry import provider_kind, split_spec
from scientist.models import Usage

CHARS_PER_TOKEN = 3.0  # conservative: estimates err towards more tokens


class Price(NamedTuple):
    """USD per 1M tokens: uncached input, output, cached input (read from the prompt
    cache) and cache writes."""

    input: float
    output: float
    cached_input: float
    cache_write: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Price:
        """From `[input, output, cached_input?, cache_write?]`: a missing cache price is the
        input price (no discount, no surcharge)."""
        input_price, output_price, *cached = (float(value) for value in values)
        read = cached[0] if cached else input_price
        write = cached[1] if len(cached) > 1 else input_price
        return cls(input_price, output_price, read, write)


def shipped_prices() -> dict[str, Price]:
    """The family table's prices as `provider:prefix -> Price`."""
    return {key: Price.of(row.price) for key, row in families().items() if row.price}


def estimate_tokens(text_chars: int) -> int:
    """A worst-case token count for `text_chars` characters of prompt."""
    return int(text_chars / CHARS_PER_TOKEN) + 1


class PriceTable:
    """Looks up a model spec's price: exact name first, then the longest listed prefix."""

    def __init__(self, overrides: dict[str, Sequence[float]] | None = None) -> None:
        self._prices = dict(shipped_prices())
        for key, values in (overrides or {}).items():
            self._prices[key] = Price.of(values)

    def price(self, spec: str) -> Price | None:
        _, _, bare = spec.partition(":")
        for name in (spec, bare) if bare else (spec,):
            if name in self._prices:
                return self._prices[name]
        found = [
            key for name in (spec, bare) if name if (key := longest_prefix(name, self._prices))
        ]
        return self._prices[max(found, key=len)] if found else None

    def usage(
        self,
        spec: str,
        input_tokens: int,
        output_tokens: int,
        image_tokens: int = 0,
        *,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> Usage:
        """What a request cost; `image_tokens`, `cached_input_tokens` and
        `cache_write_tokens` say how many of `input_tokens` were images, read from the
        prompt cache and written to it."""
        tokens = Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            image_tokens=image_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
        )
        price = self.price(spec)
        if price is None:
            return tokens.model_copy(update={"priced": False})
        uncached = max(input_tokens - cached_input_tokens - cache_write_tokens, 0)
        cost = (
            uncached * price.input
            + cached_input_tokens * price.cached_input
            + cache_write_tokens * price.cache_write
            + output_tokens * price.output
        ) / 1_000_000
        image_usd = image_tokens * price.input / 1_000_000
        return tokens.model_copy(update={"cost_usd": cost, "image_usd": image_usd})

    def worst_case_usd(
        self,
        spec: str,
        prompt_chars: int,
        max_tokens: int,
        image_tokens: int = 0,
        cacheable_chars: int = 0,
    ) -> float:
        """The most a request can cost: estimated prompt tokens, its images' tokens, and all
        of `max_tokens`; the `cacheable_chars` of a marked prefix as cache writes, which may
        cost more than input (never read from the cache: it may have expired)."""
        input_tokens = estimate_tokens(prompt_chars) + image_tokens
        writes = min(estimate_tokens(cacheable_chars), input_tokens) if cacheable_chars else 0
        price = self.price(spec)
        if price is not None and price.cache_write <= price.input:
            writes = 0
        return self.usage(spec, input_tokens, max_tokens, cache_write_tokens=writes).cost_usd


def add_usage(total: Usage, more: Usage) -> Usage:
    return Usage(
        input_tokens=total.input_tokens + more.input_tokens,
        output_tokens=total.output_tokens + more.output_tokens,
        cost_usd=total.cost_usd + more.cost_usd,
        priced=total.priced and more.priced,
        image_tokens=total.image_tokens + more.image_tokens,
        image_usd=total.image_usd + more.image_usd,
        cached_input_tokens=total.cached_input_tokens + more.cached_input_tokens,
        cache_write_tokens=total.cache_write_tokens + more.cache_write_tokens,
    )


def unpriced_models(config: ModelsConfig) -> list[str]:
    """The configured paid models that have no price (they would be counted as $0)."""
    table = PriceTable(config.prices)
    specs = {spec for role in ROLES for spec in config.for_role(role) if not is_offline(spec)}
    return sorted(
        spec
        for spec in specs
        if provider_kind(split_spec(spec)[0]).paid and table.price(spec) is None
    )
