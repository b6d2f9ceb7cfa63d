"""API keys: read from the environment only, never stored."""

from __future__ import annotations

import os

from scientist.errors import ConfigError

LOCAL_SERVER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key


def api_key(provider: str, model: str, variable: str, *, base_url: str | None) -> str:
    """The key in `variable`; a placeholder for a custom server; else one clear error."""
    key = os.environ.get(variable)
    if key:
        return key
    if base_url is not None:
        return LOCAL_SERVER_KEY
    raise ConfigError(
        f"{provider}:{model} needs an API key: set {variable} in the environment "
        "(or choose the offline mode with --llm none)"
    )
