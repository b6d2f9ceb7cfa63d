"""Mapping SDK exceptions to the layer's errors (both SDKs share the same shape)."""

from __future__ import annotations

from typing import Any

from scientist.errors import LLMProviderError
from scientist.llm.base import TransientError
from scientist.llm.retry import parse_retry_after

RETRYABLE_STATUS = frozenset({408, 409, 429})


def provider_message(exc: Any) -> str:
    """The provider's own error message from an SDK `APIStatusError`."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(getattr(exc, "message", exc))


def translate(exc: Exception, sdk: Any, model: str) -> Exception:
    """The exception to raise for an SDK error: transient (retry) or final."""
    if isinstance(exc, sdk.APITimeoutError | sdk.APIConnectionError):
        return TransientError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        message = f"HTTP {status} from {model}: {provider_message(exc)}"
        if status in RETRYABLE_STATUS or status >= 500:
            return TransientError(message, retry_after=parse_retry_after(exc.response.headers))
        return LLMProviderError(message)
    return exc
