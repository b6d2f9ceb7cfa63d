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
        return TransientError(f"{model}: {type(exc).__name__}: {exc}")
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        message = f"HTTP {status} from {model}: {provider_message(exc)}"
        if status in RETRYABLE_STATUS or status >= 500:
            return TransientError(message, retry_after=parse_retry_after(exc.response.headers))
        return LLMProviderError(message)
    return exc


def check_failure(exc: Exception, sdk: Any, where: str) -> LLMProviderError:
    """The one line for a failed model check: what failed, for which model at which URL."""
    if isinstance(exc, sdk.APIConnectionError):
        reason = "timed out" if isinstance(exc, sdk.APITimeoutError) else "cannot connect"
        return LLMProviderError(
            f"{where}: the server is unreachable ({reason})",
            hint="check models.base_url and that the server is up",
        )
    if isinstance(exc, sdk.AuthenticationError | sdk.PermissionDeniedError):
        return LLMProviderError(
            f"{where}: the API key was refused (HTTP {exc.status_code})",
            hint="check the key in the environment",
        )
    if isinstance(exc, sdk.NotFoundError):
        return LLMProviderError(
            f"{where}: the server has no such model (HTTP 404)", hint="check the model name"
        )
    if isinstance(exc, sdk.APIStatusError):
        return LLMProviderError(f"{where}: HTTP {exc.status_code}: {provider_message(exc)}")
    return LLMProviderError(f"{where}: {exc}")
