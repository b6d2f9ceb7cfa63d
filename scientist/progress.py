"""Live campaign progress (rich, or plain lines): the graph's `tasks` stream events for its
own nodes, and the scheduler's events for the jobs it runs (`job`)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from scientist.campaign import Campaign


class CampaignProgress:
    """Shows the running nodes, the idea each works on, elapsed time and cost so far."""

    def __init__(self, campaign: Campaign, *, quiet: bool = False, console: Console | None = None):
        self.campaign = campaign
        self.quiet = quiet
        self.console = console or Console(stderr=True, soft_wrap=True)
        self.started = time.monotonic()
        self.running: set[str] = set()
        self._live: Live | None = None

    def __enter__(self) -> CampaignProgress:
        if not self.quiet:
            self._live = Live(self._render(), console=self.console, refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            if not self.console.is_terminal:  # rich ends the last render with a newline
                self.console.line()  # only on a terminal; a log file needs one too

    def handle(self, event: dict[str, Any]) -> None:
        """One `stream_mode="tasks"` event: a task starting (has `input`) or ending. The
        scheduler's own calls are not shown; its jobs are (`job`)."""
        name = event.get("name", "?")
        if name == "schedule":
            return
        if "input" in event:
            self.job("start", name, "")
        else:
            self.job("failed" if event.get("error") else "done", name, "")

    def job(self, kind: str, label: str, detail: str) -> None:
        """A job starting or ending (`kind`: start, done, failed), with its outcome."""
        if kind == "start":
            self.running.add(label)
            self._log(f"start  {label}")
        else:
            self.running.discard(label)
            self._log(f"{kind:6} {label}{f' — {detail}' if detail else ''}")
        if self._live is not None:
            self._live.update(self._render())

    def _log(self, message: str) -> None:
        line = (
            f"[{time.monotonic() - self.started:7.1f}s ${self.campaign.spent_usd():.4f}] {message}"
        )
        if self._live is not None:
            self._live.console.print(line, highlight=False)
        else:
            self.console.print(line, highlight=False)

    def _render(self) -> Text:
        elapsed = time.monotonic() - self.started
        now = ", ".join(sorted(self.running)) or "between steps"
        return Text(
            f"{self.campaign.name}: {now} | {elapsed:.0f}s | ${self.campaign.spent_usd():.4f}",
            style="bold cyan",
        )
