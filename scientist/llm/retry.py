"""Retries with exponential backoff for transient provider failures.

The SDKs' own retries are disabled (`max_retries=0`), so this loop is the only one:
429, 5xx, timeouts and connection errors are retried, honouring `retry-after`
(seconds, milliseconds or an HTTP date, capped); everything else fails at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from scientist.errors import LLMProviderError
from scientist.llm.base import TransientError

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How often and how long to wait; `base_delay_s` is small in tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(default=4, ge=0)
    base_delay_s: float = Field(default=1.0, ge=0)
    max_delay_s: float = Field(default=60.0, ge=0)
    max_retry_after_s: float = Field(default=120.0, ge=0)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `attempt + 1`."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        backoff = min(self.base_delay_s * 2**attempt, self.max_delay_s)
        return backoff * rng.uniform(0.5, 1.0)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or HTTP date)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if (millis := lowered.get("retry-after-ms")) is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def call_with_retries(
    request: Callable[[], T],
    policy: RetryPolicy,
    *,
    describe: str,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run `request`, retrying `TransientError`s; exhausted -> `LLMProviderError`."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        try:
            return request()
        except TransientError as exc:
            if attempt >= policy.max_retries:
                raise LLMProviderError(
                    f"{describe} failed after {attempt + 1} attempts: {exc}",
                    hint="the provider is overloaded or unreachable; try again later",
                ) from exc
            sleep(policy.delay(attempt, exc.retry_after, rng))
            attempt += 1
