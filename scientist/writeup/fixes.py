"""Repairs for a paper that did not compile: deterministic rules, or the writer model.

Rules (offline): drop an undefined command, drop a `\\usepackage` whose file is missing,
replace a missing figure by a framed note, remove undefined citation keys and references,
escape special characters on an erroneous line, and comment the line out when escaping
did not help. The model path sends the error and the lines around it to the writer and
splices its corrected lines back; citations are always removed by rule, never invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from scientist.llm import RoleModel
from scientist.prompts import render_prompt
from scientist.writeup.latex_log import LatexIssue
from scientist.writeup.prompting import ask

_SPECIAL = re.compile(r"(?<!\\)([&#_%])")
_CITE = re.compile(r"\\(cite[tp]?\*?|citeauthor|citeyear)(\[[^\]]*\])*\{([^{}]*)\}")
WINDOW = 4


@dataclass
class FixResult:
    text: str
    actions: list[str] = field(default_factory=list)
    dropped_citations: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def drop_citation(text: str, key: str) -> str:
    def rewrite(match: re.Match[str]) -> str:
        keys = [k.strip() for k in match.group(3).split(",") if k.strip() != key]
        return f"\\{match.group(1)}{match.group(2) or ''}{{{','.join(keys)}}}" if keys else ""

    return _CITE.sub(rewrite, text)


def _escape(line: str) -> str:
    return _SPECIAL.sub(r"\\\1", line)


def _fix_line(lines: list[str], issue: LatexIssue, result: FixResult) -> None:
    index = (issue.line or 0) - 1
    if not 0 <= index < len(lines):
        return
    line = lines[index]
    if issue.kind == "undefined_control_sequence" and issue.token and issue.token in line:
        lines[index] = re.sub(re.escape(issue.token) + r"(?![A-Za-z])(\{\})?", "", line)
        result.actions.append(f"line {issue.line}: removed undefined {issue.token}")
        return
    escaped = _escape(line)
    if escaped != line:
        lines[index] = escaped
        result.actions.append(f"line {issue.line}: escaped special characters")
    elif not line.lstrip().startswith("%"):
        lines[index] = f"% removed, did not compile: {line}"
        result.actions.append(f"line {issue.line}: commented out ({issue.message})")


def _fix_missing_file(text: str, issue: LatexIssue, result: FixResult) -> str:
    name = Path(issue.token).name
    stem = Path(name).stem
    if name.endswith((".sty", ".cls")):
        pattern = re.compile(rf"^\\usepackage(\[[^\]]*\])?\{{{re.escape(stem)}\}}\s*$", re.M)
        result.actions.append(f"removed missing package {stem}")
        return pattern.sub("", text)
    pattern = re.compile(rf"\\includegraphics(\[[^\]]*\])?\{{[^}}]*{re.escape(stem)}[^}}]*\}}")
    if pattern.search(text):
        result.actions.append(f"replaced missing figure {name}")
        return pattern.sub(r"\\fbox{figure unavailable}", text)
    return text


def apply_rules(text: str, issues: list[LatexIssue]) -> FixResult:
    """One round of deterministic repairs for `issues` found compiling `text` (paper.tex)."""
    result = FixResult(text=text)
    for issue in issues:
        if issue.kind == "undefined_citation":
            result.text = drop_citation(result.text, issue.token)
            result.dropped_citations.append(issue.token)
            result.actions.append(f"removed undefined citation {issue.token}")
        elif issue.kind == "undefined_reference":
            result.text = re.sub(rf"~?\\ref\{{{re.escape(issue.token)}\}}", "", result.text)
            result.actions.append(f"removed undefined reference {issue.token}")
        elif issue.kind == "missing_file":
            result.text = _fix_missing_file(result.text, issue, result)
    lines = result.text.split("\n")
    for issue in sorted(_line_issues(issues), key=lambda i: -(i.line or 0)):
        _fix_line(lines, issue, result)
    result.text = "\n".join(lines)
    return result


def _line_issues(issues: list[LatexIssue]) -> list[LatexIssue]:
    return [
        issue
        for issue in issues
        if issue.kind in ("undefined_control_sequence", "error")
        and issue.line is not None
        and issue.file in ("", "paper.tex")
    ]


class CorrectedLines(BaseModel):
    """The model's replacement for the lines it was shown."""

    lines: str


def apply_model(text: str, issues: list[LatexIssue], model: RoleModel) -> FixResult:
    """Citation/reference/file issues by rule; each erroneous line window by the model."""
    structural = [i for i in issues if i.kind not in ("undefined_control_sequence", "error")]
    result = apply_rules(text, structural)
    lines = result.text.split("\n")
    for issue in sorted(_line_issues(issues), key=lambda i: -(i.line or 0)):
        start = max(0, (issue.line or 1) - 1 - WINDOW)
        end = min(len(lines), (issue.line or 1) + WINDOW)
        excerpt = "\n".join(lines[start:end])
        request = render_prompt(
            "write/fix", error=str(issue), line=str(issue.line), excerpt=excerpt
        )
        answer = ask(model, request, schema=CorrectedLines)
        lines[start:end] = answer.lines.rstrip("\n").split("\n")
        result.actions.append(f"line {issue.line}: model rewrote lines {start + 1}-{end}")
    result.text = "\n".join(lines)
    return result
