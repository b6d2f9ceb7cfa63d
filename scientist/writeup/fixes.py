"""Repairs for a paper that did not compile: deterministic rules, and the writer model.

Rules: drop an undefined command, drop a `\\usepackage` whose file is missing, replace a
missing figure by a framed note, remove undefined citation keys and references, escape
special characters on an erroneous line, and, as the last resort, comment the line out
when escaping did not help. The model gets every erroneous line of one compile in one
request, each with the lines around it (overlapping windows merged into one block), and its
corrected blocks are spliced back; citations are always removed by rule, never invented.
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


def _fix_line(lines: list[str], issue: LatexIssue, result: FixResult, last_resort: bool) -> None:
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
    elif last_resort and not line.lstrip().startswith("%"):
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


def apply_rules(text: str, issues: list[LatexIssue], *, last_resort: bool = True) -> FixResult:
    """One round of deterministic repairs for `issues` found compiling `text` (paper.tex);
    `last_resort`: comment out an erroneous line that no other rule changes."""
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
        _fix_line(lines, issue, result, last_resort)
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


@dataclass
class Block:
    """Lines `start` to `end` (0-based, end excluded) of the source, around `issues`."""

    start: int
    end: int
    issues: list[LatexIssue]


def _blocks(issues: list[LatexIssue], line_count: int) -> list[Block]:
    """A window of `WINDOW` lines either side of each erroneous line, overlaps merged."""
    blocks: list[Block] = []
    for issue in sorted(_line_issues(issues), key=lambda i: i.line or 0):
        line = issue.line or 1
        start, end = max(0, line - 1 - WINDOW), min(line_count, line + WINDOW)
        if blocks and start <= blocks[-1].end:
            blocks[-1].end = max(blocks[-1].end, end)
            blocks[-1].issues.append(issue)
        else:
            blocks.append(Block(start, end, [issue]))
    return blocks


class CorrectedBlock(BaseModel):
    block: int
    lines: str


class CorrectedBlocks(BaseModel):
    """The model's replacement for each block of lines it was shown."""

    blocks: list[CorrectedBlock]


def apply_model(text: str, issues: list[LatexIssue], model: RoleModel) -> FixResult:
    """One request with every erroneous line of a compile (`issues`) in its block of
    context; each block the model changed is spliced back."""
    result = FixResult(text=text)
    lines = text.split("\n")
    blocks = _blocks(issues, len(lines))
    if not blocks:
        return result
    entries = [
        render_prompt(
            "write/fix_block",
            number=str(number),
            first=str(block.start + 1),
            last=str(block.end),
            errors="\n".join(f"- {issue}" for issue in block.issues),
            excerpt="\n".join(lines[block.start : block.end]),
        )
        for number, block in enumerate(blocks, 1)
    ]
    request = render_prompt("write/fix", blocks="\n\n".join(entries))
    answer = ask(model, request, schema=CorrectedBlocks)
    corrected = {item.block: item.lines.rstrip("\n").split("\n") for item in answer.blocks}
    for number, block in reversed(list(enumerate(blocks, 1))):
        replacement = corrected.get(number)
        if replacement is None or replacement == lines[block.start : block.end]:
            continue
        lines[block.start : block.end] = replacement
        result.actions.append(f"lines {block.start + 1}-{block.end}: rewritten by the model")
    result.text = "\n".join(lines)
    return result
