"""The journal of paid requests: written before a request is sent, completed when it returns.

Every provider request of a campaign is a `sent` line in `journal.jsonl` (with its worst-case
cost) before it leaves, and an `answered` line (the reply and its usage) when it returns, or
`failed` when the provider refused it (nothing paid). Lines are keyed by the request: the
role, the whole conversation (an image by the digest of its bytes), the schema, the sampling
settings (a seed only when one is sent, so unseeded requests keep the keys they always had)
and, when a call pins one, the model. A line stores the key's hash and the reply,
never the conversation. A resumed step asks the same questions again; each question that has
an unused answer in the journal is answered from it, free, instead of being sent, with
the original call's id and model (a pool picks the model that answered); a call answered
wholly from the journal writes no ledger line, as it was ledgered when it was paid.
`scientist write` is a fresh attempt, not a replay: it marks every recorded answer used
before it asks (`writeup.cli.ask_anew`), so its requests are sent and journaled again.

A call whose requests the ledger does not list yet (killed before its ledger line) is added
to the ledger when the campaign is opened again (`unledgered`): answered requests at their
cost, a request still in flight at the kill at its estimate, marked unsettled.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict, deque
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from scientist.atomic_files import append_jsonl
from scientist.campaign import Campaign, read_records
from scientist.errors import CampaignError
from scientist.llm.base import Message, Reply
from scientist.llm.pricing import add_usage
from scientist.models import LedgerEntry, Usage, utc_now

IN_FLIGHT = "in flight at a kill: cost estimated"


class JournalLine(BaseModel):
    """One line of `journal.jsonl`."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["sent", "answered", "failed", "lost"]
    """`lost`: a ledgered call whose lines the journal no longer had, written when a resume
    was told to pay for it again (`--repay`)."""
    call_id: str
    request: int
    key: str
    role: str
    model: str
    estimate_usd: float = 0.0
    reply: Reply | None = None
    usage: Usage | None = None
    time: str = ""


def request_key(
    role: str,
    messages: list[Message],
    schema: type[BaseModel] | None,
    temperature: float | None,
    max_tokens: int,
    pinned: str | None,
    seed: int | None = None,
) -> str:
    """What identifies a request across processes: its role and its whole content, each
    image by the digest of its bytes (a message's `cache_prefix` mark left out: it changes
    what a request costs, never what it asks)."""
    content = {
        "role": role,
        "messages": [
            {
                **message.model_dump(exclude={"images", "cache_prefix"}),
                "images": [i.digest for i in message.images],
            }
            for message in messages
        ],
        "schema": None if schema is None else schema.model_json_schema(),
        "temperature": temperature,
        "max_tokens": max_tokens,
        "model": pinned,
    }
    if seed is not None:
        content["seed"] = seed
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


class Journal:
    """A campaign's `journal.jsonl`: appends lines and hands out recorded answers once each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.lines = read_records(JournalLine, path)
        self._answers: dict[str, deque[JournalLine]] = defaultdict(deque)
        for line in self.lines:
            if line.event == "answered":
                self._answers[line.key].append(line)

    def call(self, role: str, call_id: str, pinned: str | None) -> CallJournal:
        return CallJournal(self, role, call_id, pinned)

    def recorded_model(self, key: str) -> str | None:
        """The model of the next unused answer to `key`, if there is one."""
        with self._lock:
            answers = self._answers.get(key)
            return answers[0].model if answers else None

    def take(self, key: str) -> JournalLine | None:
        """The next unused answer to `key` (each answer is handed out once per process)."""
        with self._lock:
            answers = self._answers.get(key)
            return answers.popleft() if answers else None

    def forget_answers(self) -> None:
        """Hand out no recorded answer in this process: every request is sent anew (a fresh
        attempt, such as `scientist write`), and still journaled."""
        with self._lock:
            self._answers.clear()

    def append(self, line: JournalLine) -> None:
        with self._lock:
            append_jsonl(self.path, line.model_copy(update={"time": utc_now()}))
            self.lines.append(line)

    def unledgered(self, ledgered: set[str]) -> list[LedgerEntry]:
        """Ledger entries for the calls the ledger misses: what a kill cut short."""
        requests: dict[str, dict[int, list[JournalLine]]] = defaultdict(lambda: defaultdict(list))
        for line in self.lines:
            if line.call_id not in ledgered:
                requests[line.call_id][line.request].append(line)
        entries = []
        for call_id, numbered in requests.items():
            usage, in_flight = Usage(), False
            for lines in numbered.values():
                events = {line.event: line for line in lines}
                if "answered" in events and events["answered"].usage is not None:
                    usage = add_usage(usage, events["answered"].usage)
                elif "failed" not in events:
                    in_flight = True
                    usage = add_usage(usage, Usage(cost_usd=events["sent"].estimate_usd))
            first = next(iter(numbered.values()))[0]
            entries.append(
                LedgerEntry(
                    call_id=call_id,
                    role=first.role,
                    model=first.model,
                    usage=usage,
                    latency_s=0.0,
                    ok=not in_flight,
                    settled=not in_flight,
                    error=IN_FLIGHT if in_flight else "",
                )
            )
        return entries


def check_journal(campaign: Campaign, *, repay: bool) -> None:
    """Refuse to resume when the journal lost calls the ledger lists (deleted, truncated):
    their questions would be asked and paid for again. With `repay`, accept that: each lost
    call is noted in the journal (`lost`), so the refusal does not come back."""
    journal = Journal(campaign.journal_path)
    journaled = {line.call_id for line in journal.lines}
    lost = [entry for entry in campaign.ledger() if entry.call_id not in journaled]
    if not lost:
        return
    cost = sum(entry.usage.cost_usd for entry in lost)
    if not repay:
        raise CampaignError(
            f"{campaign.journal_path} is missing {len(lost)} of the model calls the ledger lists "
            f"(${cost:.4f}); resuming would ask and pay for them again",
            hint=f"restore the journal, or pay again (up to about ${cost:.4f}): "
            f"scientist resume {campaign.root} --repay",
        )
    for entry in lost:
        journal.append(
            JournalLine(
                event="lost",
                call_id=entry.call_id,
                request=0,
                key="",
                role=entry.role,
                model=entry.model,
            )
        )


class CallJournal:
    """One model call's view of the journal: its key, its replays and its request lines."""

    def __init__(self, journal: Journal, role: str, call_id: str, pinned: str | None) -> None:
        self.journal = journal
        self.role = role
        self.call_id = call_id
        self.pinned = pinned
        self.replayed_call_id: str | None = None
        self._requests = 0

    def key(
        self,
        messages: list[Message],
        schema: type[BaseModel] | None,
        temperature: float | None,
        max_tokens: int,
        seed: int | None = None,
    ) -> str:
        return request_key(self.role, messages, schema, temperature, max_tokens, self.pinned, seed)

    def replay(self, key: str) -> Reply | None:
        """The recorded answer to this request, or None when it must be sent."""
        line = self.journal.take(key)
        if line is None:
            return None
        self.replayed_call_id = self.replayed_call_id or line.call_id
        return line.reply

    def sent(self, key: str, model: str, estimate_usd: float) -> int:
        """Record a request about to leave; its number within the call."""
        self._requests += 1
        self.journal.append(self._line("sent", key, model, estimate_usd=estimate_usd))
        return self._requests

    def answered(self, number: int, key: str, model: str, reply: Reply, usage: Usage) -> None:
        self.journal.append(self._line("answered", key, model, number, reply=reply, usage=usage))

    def failed(self, number: int, key: str, model: str) -> None:
        self.journal.append(self._line("failed", key, model, number))

    def _line(
        self, event: str, key: str, model: str, number: int | None = None, **fields: object
    ) -> JournalLine:
        return JournalLine(
            event=event,  # type: ignore[arg-type]
            call_id=self.call_id,
            request=self._requests if number is None else number,
            key=key,
            role=self.role,
            model=model,
            **fields,  # type: ignore[arg-type]
        )
