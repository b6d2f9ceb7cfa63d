"""The code agent: one conversation with the code model about one idea's code folder, and
the checks every version passes before its full run. The linear loop (`coder`) and the tree
search (`search_develop`) both edit through it.

Every conversation about one idea starts with the same message, byte for byte
(`pack_prefix`): the instructions and the pack as shipped, marked as the stable prefix that
the providers' prompt caches serve. Later requests say what changed since (the diff against
the pack, a run's result, plot feedback), never the pack again.

`CodeSession.ask(request)` sends a request and handles the answer until it is usable: edits
are applied all-or-nothing (a mismatch goes back with the files it aimed at), `READ <path>`
gets the file, an answer cut at the output limit is never applied in part (the model is asked
again), and an answer with edits is never taken for DONE.

`prepare_version` turns answers into a version worth a full run: code that differs from the
pack when the idea needs code, a passing smoke run (its stderr goes back to the model at smoke
cost), and overrides that name only knobs the edited pack accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scientist.atomic_files import atomic_write_text
from scientist.experiments.editing import apply_edits, parse_answer
from scientist.experiments.pack_view import PackView, read_requests
from scientist.experiments.runs import code_diff
from scientist.llm import Message, RoleModel
from scientist.models import ExperimentRun, Idea
from scientist.prompts import render_prompt
from scientist.templates import Template

ANSWER_ROUNDS = 4
VIEW_SHARE = 4
"""A model with a known context window gives the knob files at most a quarter of it."""
STDERR_CHARS = 3000
_KEYWORD = re.compile(r"^[ \t]*(NO CHANGE|DONE)[ \t.!]*$", re.MULTILINE)

AnswerKind = Literal["edited", "unchanged", "done", "unusable"]


@dataclass(frozen=True)
class AgentAnswer:
    """What a request came to: edits applied (`edited`), a declared `unchanged` (NO CHANGE),
    `done`, or `unusable` (no applicable answer within `ANSWER_ROUNDS`)."""

    kind: AnswerKind
    call_ids: tuple[str, ...] = ()
    note: str = ""


def pack_prefix(template: Template, idea: Idea, window: int | None = None) -> Message:
    """The first message of every code call about `idea`: the instructions, then the pack as
    shipped (its tree, the files the idea needs in full, outlines of the others). For a model
    whose context `window` is known, the files shown for the idea's knobs take at most
    `1 / VIEW_SHARE` of it."""
    view = PackView(template, template.root)
    pack = view.render(
        hints=f"{idea.title} {idea.hypothesis} {idea.plan}",
        knobs=idea.overrides,
        budget=window // VIEW_SHARE if window else None,
    )
    content = render_prompt("code/system", pack=pack)
    return Message(role="system", content=content, cache_prefix=True)


@dataclass
class CodeSession:
    """A conversation with `model` (pinned to `pin` when given) about `idea`, implemented in
    `view.code_dir`; the transcript is kept in `record` when given."""

    model: RoleModel
    view: PackView
    idea: Idea
    pin: str | None = None
    record: Path | None = None
    messages: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.messages = [pack_prefix(self.view.template, self.idea, self.model.context_tokens)]

    def ask(self, request: str) -> AgentAnswer:
        self._say("user", request)
        call_ids: list[str] = []
        for _ in range(ANSWER_ROUNDS):
            completion = self.model.complete(self.messages, model=self.pin)
            call_ids.append(completion.call_id)
            self._say("assistant", completion.text)
            if completion.truncated:
                self._say("user", render_prompt("code/truncated"))
                continue
            kind, follow_up = self._handle(completion.text)
            if kind is None:
                self._say("user", follow_up)
                continue
            note = "the model answered DONE" if kind == "done" else ""
            return AgentAnswer(kind, tuple(call_ids), note)
        return AgentAnswer("unusable", tuple(call_ids), f"no usable answer in {ANSWER_ROUNDS}")

    def _handle(self, text: str) -> tuple[AnswerKind | None, str]:
        """The answer's kind, or (None, the follow-up request) when it is not usable yet."""
        parsed = parse_answer(text)
        if parsed.blocks or parsed.unreadable:
            view = self.view
            report = apply_edits(view.code_dir, parsed.blocks, view.editable, view.protected)
            failures = parsed.unreadable + report.failures
            if not failures:
                return "edited", ""
            targets = sorted({f.path for f in failures} & set(self.view.readable))
            return None, render_prompt(
                "code/mismatch",
                failures="\n".join(f"- {failure}" for failure in failures),
                files=self.view.fenced(targets),
            )
        wanted = read_requests(text)
        if wanted:
            readable = set(self.view.readable)
            missing = [name for name in wanted if name not in readable]
            shown = self.view.fenced([name for name in wanted if name in readable])
            if missing:
                shown += f"\n\nNot readable files of this pack: {', '.join(missing)}."
            return None, render_prompt("code/read", files=shown)
        keyword = _KEYWORD.search(text)
        if keyword is not None:
            return ("unchanged" if keyword.group(1) == "NO CHANGE" else "done"), ""
        return None, render_prompt("code/no_edits")

    def _say(self, role: Literal["user", "assistant"], content: str) -> None:
        self.messages.append(Message(role=role, content=content))
        if self.record is not None:
            transcript = "\n\n".join(f"## {m.role}\n\n{m.content}" for m in self.messages)
            atomic_write_text(self.record, transcript + "\n")


def accepted_knobs(run: ExperimentRun | None) -> set[str] | None:
    """The knobs a pack accepts: the keys of a run's effective configuration (its
    `final_info.json` `config`); None when that run reported none."""
    if run is None or run.final_info is None or not run.final_info.config:
        return None
    return set(run.final_info.config) | {"seeds"}


def unknown_knobs(overrides: dict[str, Any], accepted: set[str] | None) -> list[str]:
    return [] if accepted is None else sorted(set(overrides) - accepted)


def knob_line(overrides: dict[str, Any], accepted: set[str] | None) -> str:
    """For the implement prompt: the knobs the unedited pack accepts, and any it lacks."""
    if accepted is None:
        return ""
    line = f"Knobs the pack accepts: {', '.join(sorted(accepted))}."
    unknown = unknown_knobs(overrides, accepted)
    if unknown:
        line += f" Not yet knobs of the pack (add them, or the run fails): {', '.join(unknown)}."
    return line


def changes_request(view: PackView) -> str:
    """How the code in `view` differs from the pack as shipped: a unified diff."""
    diff = code_diff(view.template.root, view.code_dir)
    return render_prompt("code/changes", diff=diff) if diff else render_prompt("code/unedited")


def debug_request(run: ExperimentRun, which: str, attempts_left: int, view: PackView) -> str:
    return render_prompt(
        "code/debug",
        which=which,
        status=run.result.status,
        stderr=run.result.stderr_tail[-STDERR_CHARS:],
        attempts_left=attempts_left,
        changes=changes_request(view),
    )


@dataclass(frozen=True)
class Version:
    """A version of the code ready for its full run (`ready`), or why there is none."""

    ready: bool
    kind: AnswerKind
    call_ids: tuple[str, ...]
    note: str = ""


SmokeTest = Callable[[int], ExperimentRun]
"""`smoke(n)`: the n-th smoke run of the version in the session's folder (idempotent)."""


def prepare_version(
    session: CodeSession,
    request: str,
    *,
    overrides: dict[str, Any],
    needs_code: bool,
    smoke: SmokeTest | None,
    baseline_knobs: set[str] | None,
    attempts: int,
) -> Version:
    """Ask until the session's code is worth a full run, with at most `attempts` fixes.

    `smoke` is None when full runs are already at smoke size; then an unchanged pack's knobs
    (`baseline_knobs`) are the ones checked, and an edited pack's run reports its own.
    """
    call_ids: list[str] = []
    problem = ""
    for attempt in range(attempts + 1):
        answer = session.ask(request)
        call_ids += answer.call_ids
        if answer.kind in ("done", "unusable"):
            return Version(False, answer.kind, tuple(call_ids), answer.note)
        changed = session.view.changed()
        accepted = baseline_knobs if not changed else None
        if not changed and unknown_knobs(overrides, accepted):
            problem, request = _knobs_problem(overrides, accepted)
            continue
        if needs_code and not changed:
            problem, request = (
                "the code stayed identical to the pack's",
                render_prompt("code/unchanged"),
            )
            continue
        if smoke is not None:
            run = smoke(attempt + 1)
            if not run.result.ok:
                tail = run.result.stderr_tail.strip().splitlines()[-1:]
                problem = "; ".join([f"the smoke run failed ({run.result.status})", *tail])
                left = attempts - attempt
                request = debug_request(run, "The smoke run of this version", left, session.view)
                continue
            accepted = accepted_knobs(run)
        if unknown_knobs(overrides, accepted):
            problem, request = _knobs_problem(overrides, accepted)
            continue
        return Version(True, answer.kind, tuple(call_ids))
    note = f"no runnable version in {attempts + 1} tries; last: {problem}"
    return Version(False, "unusable", tuple(call_ids), note)


def _knobs_problem(overrides: dict[str, Any], accepted: set[str] | None) -> tuple[str, str]:
    """Why the version cannot run (the overrides name unknown knobs), and the request."""
    unknown = ", ".join(unknown_knobs(overrides, accepted))
    listed = ", ".join(sorted(accepted or []))
    return f"the pack has no knob {unknown}", render_prompt(
        "code/knobs", unknown=unknown, accepted=listed
    )
