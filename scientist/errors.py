"""The one exception tree of scientist.

Every error a user can cause or fix derives from `ScientistError`; the CLI prints its
message (and `hint`, when set) as one line and exits with code 2, never a traceback.
"""

from __future__ import annotations


class ScientistError(Exception):
    """Base of every error scientist raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(ScientistError):
    """A configuration file, value or CLI flag is invalid."""


class TemplateError(ScientistError):
    """An experiment pack is missing, malformed, or its smoke run is invalid."""


class CampaignError(ScientistError):
    """A campaign directory is missing, locked, or inconsistent."""


class SandboxError(ScientistError):
    """A sandbox could not run a spec (not: the experiment inside it failed, which is a
    `RunResult` status such as `timeout` or `oom`)."""


class SandboxUnavailable(SandboxError):
    """The requested backend cannot run on this machine; `hint` says how to fix it."""


class LLMError(ScientistError):
    """A language-model call failed."""


class LLMFormatError(LLMError):
    """The model's output never validated against the schema; `raw_text` keeps it."""

    def __init__(self, message: str, *, raw_text: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.raw_text = raw_text


class LLMProviderError(LLMError):
    """The provider refused or failed the request (after retries where retrying helps)."""


class BudgetExceeded(ScientistError):
    """A call would pass the campaign's `budget_usd`; raised before the call is made.
    `estimate_usd` is that call's worst-case cost, the reservation it needs; `step` names the
    campaign step it paused (set by the graph)."""

    estimate_usd: float | None = None
    step: str | None = None


class LiteratureUnavailable(ScientistError):
    """The literature service cannot be reached and nothing is cached for the query."""


class LatexError(ScientistError):
    """A paper could not be compiled."""


class ViewError(ScientistError):
    """The campaign view cannot be served or written (a port in use, a bad output folder)."""


class PathRefused(ViewError):
    """A request for a file outside the campaign directory (answered 403, never served)."""


class LinkRefused(ScientistError):
    """A pack, run or model tree holds a link leading out of it; the host never follows it."""
