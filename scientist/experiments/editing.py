"""Edits in a code model's answer: parsed from three formats, applied all-or-nothing.

Formats (any mix in one answer; CRLF, fences around blocks and backticked or bold paths are
normalised; markers may have 5 to 9 characters):

    mergepack/merging.py             SEARCH/REPLACE on whole lines; an empty SEARCH
    <<<<<<< SEARCH                   creates a new file
    old lines
    =======
    new lines
    >>>>>>> REPLACE

    mergepack/new_module.py          whole-file replacement: a path line, then the file in
    ```python                        one fenced block (the fence must hold the whole file:
    ...                              a short snippet of an existing file is refused)
    ```

    --- a/experiment.py              a unified diff; each hunk's context and `-` lines are
    +++ b/experiment.py              its SEARCH, context and `+` lines its REPLACE (line
    @@ -1,3 +1,3 @@                  numbers are ignored)

A SEARCH matches whole lines only, exactly once; when it matches nowhere exactly, it may
match once with other indentation (the replacement is re-indented alike) or other trailing
spaces. Every failure names its block and file; then nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from scientist.atomic_files import atomic_write_text

Kind = Literal["search", "whole", "diff"]

_SEARCH = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$")
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_REPLACE = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_PATH = re.compile(r"[\w./-]*\w\.\w+")
_DIFF_OLD = re.compile(r"^--- (?:a/)?(\S+)")
_DIFF_NEW = re.compile(r"^\+\+\+ (?:b/)?(\S+)")
_HUNK = re.compile(r"^@@ .* @@")
WHOLE_FILE_SHARE = 0.6


class EditBlock(BaseModel):
    """One edit: replace `search` by `replace` in `path` (`whole`: `replace` is the file)."""

    path: str
    search: str = ""
    replace: str
    kind: Kind = "search"


class EditFailure(BaseModel):
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class EditReport(BaseModel):
    blocks: list[EditBlock]
    failures: list[EditFailure]
    changed: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.failures


class ParsedAnswer(BaseModel):
    """What an answer holds: its edits and the blocks that could not be read."""

    blocks: list[EditBlock]
    unreadable: list[EditFailure]


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_path(line: str) -> str | None:
    """The file path a line names (`**a/b.py**`, `` `a/b.py`: ``, `# File: a/b.py`), or None."""
    stripped = line.strip().strip("`*'\":#").strip()
    stripped = re.sub(r"^(?:file|path)\s*:\s*", "", stripped, flags=re.IGNORECASE).strip("`*")
    match = _PATH.fullmatch(stripped)
    return match.group(0).removeprefix("./") if match else None


def parse_answer(text: str) -> ParsedAnswer:
    """Every edit in a model's answer, in order, and what looked like an edit but was not."""
    lines = normalise(text).split("\n")
    blocks: list[EditBlock] = []
    unreadable: list[EditFailure] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _SEARCH.match(line):
            i = _read_search_block(lines, i, blocks, unreadable)
        elif _DIFF_OLD.match(line) and i + 1 < len(lines) and _DIFF_NEW.match(lines[i + 1]):
            i = _read_diff(lines, i, blocks)
        elif (
            _FENCE.match(line)
            and i > 0
            and clean_path(lines[i - 1])
            and not _fence_holds_edits(lines, i)
        ):
            i = _read_whole_file(lines, i, blocks)
        else:
            i += 1
    return ParsedAnswer(blocks=blocks, unreadable=unreadable)


def _path_before(lines: list[str], start: int) -> str | None:
    """The path named just above line `start`, skipping blank and fence lines."""
    for line in reversed(lines[max(0, start - 3) : start]):
        if not line.strip():
            continue
        if _FENCE.match(line):
            fenced = clean_path(line.strip().lstrip("`~").split(" ")[-1])
            if fenced:
                return fenced
            continue
        return clean_path(line)
    return None


def _read_search_block(
    lines: list[str], start: int, blocks: list[EditBlock], unreadable: list[EditFailure]
) -> int:
    path = _path_before(lines, start)
    divider = next((j for j in range(start + 1, len(lines)) if _DIVIDER.match(lines[j])), None)
    end = None
    if divider is not None:
        end = next((j for j in range(divider + 1, len(lines)) if _REPLACE.match(lines[j])), None)
    number = len(blocks) + len(unreadable) + 1
    if path is None or divider is None or end is None:
        missing = "its file path above it" if path is None else "its ======= and >>>>>>> REPLACE"
        unreadable.append(EditFailure(path=path or "?", reason=f"block {number} lacks {missing}"))
        return start + 1 if divider is None or end is None else end + 1
    search = "".join(line + "\n" for line in lines[start + 1 : divider])
    replace = "".join(line + "\n" for line in lines[divider + 1 : end])
    blocks.append(EditBlock(path=path, search=search, replace=replace))
    return end + 1


def _read_diff(lines: list[str], start: int, blocks: list[EditBlock]) -> int:
    old = _DIFF_OLD.match(lines[start]).group(1)  # type: ignore[union-attr]
    path = _DIFF_NEW.match(lines[start + 1]).group(1)  # type: ignore[union-attr]
    i = start + 2
    while i < len(lines) and _HUNK.match(lines[i]):
        search, replace = [], []
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "-", "+", "") and not _ends_hunk(lines, i):
            body = lines[i][1:] + "\n"
            if lines[i][:1] in (" ", ""):
                search.append(body)
                replace.append(body)
            elif lines[i][0] == "-":
                search.append(body)
            else:
                replace.append(body)
            i += 1
        while search and search[-1] == "\n" and replace and replace[-1] == "\n":
            search.pop()
            replace.pop()  # a blank line after the hunk is prose spacing, not context
        kind: Kind = "whole" if old == "/dev/null" else "diff"
        blocks.append(
            EditBlock(path=path, search="".join(search), replace="".join(replace), kind=kind)
        )
    return i


def _ends_hunk(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _HUNK.match(line) or _FENCE.match(line):
        return True
    if line.startswith("--- ") and i + 1 < len(lines) and _DIFF_NEW.match(lines[i + 1]):
        return True
    return line == "" and (i + 1 >= len(lines) or lines[i + 1][:1] not in (" ", "-", "+"))


def _fence_holds_edits(lines: list[str], start: int) -> bool:
    for line in lines[start + 1 :]:
        if _FENCE.match(line):
            return False
        if _SEARCH.match(line) or _HUNK.match(line):
            return True
    return True  # an unclosed fence: nothing to take as a file


def _read_whole_file(lines: list[str], start: int, blocks: list[EditBlock]) -> int:
    end = next(j for j in range(start + 1, len(lines)) if _FENCE.match(lines[j]))
    body = "".join(line + "\n" for line in lines[start + 1 : end])
    blocks.append(EditBlock(path=clean_path(lines[start - 1]) or "", replace=body, kind="whole"))
    return end + 1


PROTECTED = (
    "protected: this file belongs to the pack's grader, which scores every run from the "
    "pack's own unedited copy; read it, and make the change in the method's code instead"
)


def apply_edits(
    code_dir: Path,
    blocks: list[EditBlock],
    editable: set[str],
    protected: frozenset[str] | set[str] = frozenset(),
) -> EditReport:
    """Apply every block or none. `editable` lists the pack-relative files the agent may
    change, `protected` those it may only read (the grader's: refused with the reason); a
    new file may be created anywhere inside the pack (`code_dir`), never outside."""
    root = code_dir.resolve()
    contents: dict[str, str] = {}
    failures: list[EditFailure] = []
    for number, block in enumerate(blocks, start=1):
        try:
            relative, text = _edited(root, block, contents, editable, protected)
        except ValueError as exc:
            failures.append(EditFailure(path=block.path, reason=f"block {number}: {exc}"))
            continue
        contents[relative] = text
    changed = []
    if not failures:
        for relative, text in contents.items():
            target = root / relative
            if not target.is_file() or target.read_text("utf-8") != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(target, text)
                changed.append(relative)
    return EditReport(blocks=blocks, failures=failures, changed=changed)


def _edited(
    root: Path,
    block: EditBlock,
    contents: dict[str, str],
    editable: set[str],
    protected: frozenset[str] | set[str],
) -> tuple[str, str]:
    """The file `block` changes and its new text; ValueError says why it cannot apply."""
    target = (root / block.path).resolve()
    if not target.is_relative_to(root) or target == root:
        raise ValueError("outside the pack; edits stay inside it")
    relative = str(target.relative_to(root))
    if relative in protected:
        raise ValueError(PROTECTED)
    exists = relative in contents or target.is_file()
    if exists and relative not in editable:
        raise ValueError("not an editable file of this pack")
    current = contents.get(relative)
    if current is None and exists:
        current = target.read_text("utf-8")
    if block.kind == "whole":
        share = len(block.replace.splitlines()) / max(1, len((current or "").splitlines()))
        if current is not None and share < WHOLE_FILE_SHARE:
            raise ValueError(
                "a fenced snippet is not an edit: send SEARCH/REPLACE blocks or the whole file"
            )
        return relative, block.replace
    if current is None:
        if block.search.strip():
            raise ValueError("no such file in the pack (an empty SEARCH creates one)")
        return relative, block.replace
    return relative, replace_lines(current, block.search, block.replace)


def replace_lines(text: str, search: str, replace: str) -> str:
    """`text` with the whole lines `search` replaced by `replace`: exactly, else with other
    trailing spaces, else with other indentation (re-indenting `replace` alike). ValueError
    when `search` matches no whole lines, or several places."""
    first = search.strip().splitlines()[:1]
    quoted = repr(first[0]) if first else "(empty)"
    if not search.strip():
        raise ValueError("SEARCH is empty")
    lines = text.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    old = search.splitlines(True)
    new = replace.splitlines(True)
    for same, reindent in ((_exact, False), (_rstripped, False), (_dedented, True)):
        hits = [k for k in range(len(lines) - len(old) + 1) if same(lines[k : k + len(old)], old)]
        if len(hits) > 1:
            raise ValueError(
                f"SEARCH matches {len(hits)} places, add lines to make it unique: {quoted}"
            )
        if hits:
            k = hits[0]
            if reindent:
                new = _reindent(new, _indent(old), _indent(lines[k : k + len(old)]))
            return "".join(lines[:k] + new + lines[k + len(old) :])
    raise ValueError(f"SEARCH matches no whole lines of the file: {quoted}")


def _exact(window: list[str], old: list[str]) -> bool:
    return window == old


def _rstripped(window: list[str], old: list[str]) -> bool:
    return [line.rstrip() for line in window] == [line.rstrip() for line in old]


def _dedented(window: list[str], old: list[str]) -> bool:
    if [line.strip() for line in window] != [line.strip() for line in old]:
        return False
    shift = {
        len(w) - len(w.lstrip()) - (len(o) - len(o.lstrip()))
        for w, o in zip(window, old, strict=True)
        if o.strip()
    }
    return len(shift) == 1


def _indent(lines: list[str]) -> str:
    first = next((line for line in lines if line.strip()), "")
    return first[: len(first) - len(first.lstrip())]


def _reindent(lines: list[str], before: str, after: str) -> list[str]:
    out = []
    for line in lines:
        if line.strip() and line.startswith(before):
            line = after + line[len(before) :]
        elif line.strip() and not before:
            line = after + line
        out.append(line)
    return out
