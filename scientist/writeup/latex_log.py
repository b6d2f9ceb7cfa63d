"""Typed issues from a LaTeX log (run with `-file-line-error`) and from chktex."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

IssueKind = Literal[
    "undefined_control_sequence",
    "missing_file",
    "undefined_citation",
    "undefined_reference",
    "overfull_box",
    "error",
]
FATAL: frozenset[str] = frozenset({"undefined_control_sequence", "missing_file", "error"})

_FILE_LINE_ERROR = re.compile(r"^(?:\./)?([^:\s]+\.tex):(\d+): (.*)$")
_CONTEXT_LINE = re.compile(r"^l\.(\d+) ?(.*)$")
_MISSING_FILE = re.compile(r"File `([^']+)' not found")
_CITATION = re.compile(r"Citation `([^']+)' on page \S+ undefined on input line (\d+)")
_REFERENCE = re.compile(r"Reference `([^']+)' on page \S+ undefined on input line (\d+)")
_OVERFULL = re.compile(r"^Overfull \\[hv]box \(([\d.]+)pt too \w+\) .*?lines? (\d+)")
_CHKTEX = re.compile(r"^([^:]+):(\d+):(\d+):(\d+):(.*)$")


class LatexIssue(BaseModel):
    kind: IssueKind
    message: str
    line: int | None = None
    file: str = ""
    token: str = ""

    @property
    def fatal(self) -> bool:
        return self.kind in FATAL

    def __str__(self) -> str:
        where = f"{self.file or 'paper.tex'}:{self.line}" if self.line else self.file or "log"
        return f"{where}: {self.kind}: {self.message}"


def _error_issue(file: str, line: int, message: str, lines: list[str], at: int) -> LatexIssue:
    token = ""
    for follow in lines[at + 1 : at + 6]:
        context = _CONTEXT_LINE.match(follow)
        if context:
            commands = re.findall(r"\\[A-Za-z@]+", context.group(2))
            token = commands[-1] if commands else ""
            break
    if "Undefined control sequence" in message:
        return LatexIssue(
            kind="undefined_control_sequence", message=message, line=line, file=file, token=token
        )
    missing = _MISSING_FILE.search(message)
    if missing:
        return LatexIssue(
            kind="missing_file", message=message, line=line, file=file, token=missing.group(1)
        )
    return LatexIssue(kind="error", message=message, line=line, file=file, token=token)


def parse_log(log: str) -> list[LatexIssue]:
    """Errors, undefined citations/references and overfull boxes, in log order."""
    issues: list[LatexIssue] = []
    lines = log.splitlines()
    for index, text in enumerate(lines):
        error = _FILE_LINE_ERROR.match(text)
        if error:
            file, line, message = error.group(1), int(error.group(2)), error.group(3)
            issues.append(_error_issue(file, line, message, lines, index))
            continue
        if text.startswith("! "):  # an error without file:line (e.g. missing package)
            missing = _MISSING_FILE.search(text)
            kind: IssueKind = "missing_file" if missing else "error"
            token = missing.group(1) if missing else ""
            issues.append(LatexIssue(kind=kind, message=text[2:], token=token))
            continue
        joined = text + (lines[index + 1] if index + 1 < len(lines) else "")
        for pattern, kind in (
            (_CITATION, "undefined_citation"),
            (_REFERENCE, "undefined_reference"),
        ):
            found = pattern.search(joined)
            if found and found.start() < len(text):
                issues.append(
                    LatexIssue(
                        kind=kind,  # type: ignore[arg-type]
                        message=f"{found.group(1)} undefined",
                        line=int(found.group(2)),
                        token=found.group(1),
                    )
                )
        overfull = _OVERFULL.match(text)
        if overfull:
            issues.append(
                LatexIssue(
                    kind="overfull_box",
                    message=f"overfull box, {overfull.group(1)}pt too wide",
                    line=int(overfull.group(2)),
                )
            )
    return _dedupe(issues)


def _dedupe(issues: list[LatexIssue]) -> list[LatexIssue]:
    seen: set[tuple[str, int | None, str]] = set()
    unique = []
    for issue in issues:
        key = (issue.kind, issue.line, issue.token or issue.message)
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return unique


def chktex_warnings(tex_path: Path, timeout_s: float = 30) -> list[str]:
    """chktex's warnings as `line:column: message` (empty when chktex is not installed)."""
    if shutil.which("chktex") is None:
        return []
    try:
        done = subprocess.run(
            ["chktex", "-q", "-I0", "-f%f:%l:%c:%n:%m\n", tex_path.name],
            cwd=tex_path.parent,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return ["chktex timed out"]
    warnings = []
    for text in done.stdout.splitlines():
        match = _CHKTEX.match(text)
        if match:
            warnings.append(f"{match.group(2)}:{match.group(3)}: {match.group(5).strip()}")
    return warnings
