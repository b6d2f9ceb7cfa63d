"""Live campaign progress fed by the graph's `tasks` stream events (rich, or plain lines)."""

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
        self.running: dict[str, str] = {}
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
        """One `stream_mode="tasks"` event: a task starting (has `input`) or ending."""
        name, task_id = event.get("name", "?"), event.get("id", "")
        if "input" in event:
            self.running[task_id] = _describe(name, event["input"])
            self._log(f"start  {self.running[task_id]}")
        else:
            label = self.running.pop(task_id, name)
            status = "failed" if event.get("error") else "done"
            self._log(f"{status:6} {label}{_outcome(event.get('result'))}")
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
        now = ", ".join(self.running.values()) or "between steps"
        return Text(
            f"{self.campaign.name}: {now} | {elapsed:.0f}s | ${self.campaign.spent_usd():.4f}",
            style="bold cyan",
        )


def _describe(node: str, payload: Any) -> str:
    if node == "experiment" and isinstance(payload, dict) and "entry" in payload:
        return f"experiment {payload['entry'].id}"
    return node


def _outcome(result: Any) -> str:
    """A short summary of a node's writes (idea statuses and metrics) for the log line."""
    if not isinstance(result, dict):
        return ""
    entries = result.get("entries") or {}
    parts = []
    for entry in entries.values():
        metric = "" if entry.metric is None else f" metric={entry.metric:.4g}"
        parts.append(f"{entry.id}: {entry.status}{metric}")
    if result.get("stop_reason"):
        parts.append(f"stopping ({result['stop_reason']})")
    return f" — {'; '.join(parts)}" if parts else ""
