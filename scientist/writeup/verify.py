"""Find numbers in a paper's text that have no source.

A number is sourced when it is printed by an evidence macro, appears in a run's
configuration (or the idea's overrides), is the year of a cited work, or is a LaTeX
reference (section, figure, table numbers come from `\\ref`). Literals that equal a
macro's value at the precision they are written are sourced too (a correct copy); every
other number is reported with its line and context. Code is not prose: listings
(`verbatim`, `lstlisting`, `minted`, ..., such as the code appendix's diff with its hunk
headers) and inline code (`\\verb`, `\\lstinline`) are skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

# commands whose arguments are not prose: references, files, keys, code identifiers
_NON_PROSE_ARGS = re.compile(
    r"\\(?:cite[tp]?\*?|citeauthor|citeyear|ref|eqref|autoref|label|input|include|"
    r"includegraphics|bibliography|bibliographystyle|usepackage|documentclass|texttt|url|"
    r"href|begin|end|hspace|vspace|setlength|resizebox)(?:\[[^\]]*\])*\{[^{}]*\}"
)
_OPTIONS = re.compile(r"\[[^\[\]]*(?:=|\\linewidth|\\textwidth|htbp|!)[^\[\]]*\]")
_MACRO = re.compile(r"\\[A-Za-z]+")
_COMMENT = re.compile(r"(?<!\\)%.*$")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.\\])(?<![A-Za-z]-)[-+]?\d+(?:[.,]\d+)*(?![A-Za-z0-9_])")
_LENGTH = re.compile(r"[-+]?\d*\.?\d+(?:pt|em|ex|cm|mm|in)\b")
# code, set verbatim: listing environments (with their options), inline `\verb|..|` and
# `\lstinline[..]{..}` or `\lstinline|..|`
_LISTING = re.compile(
    r"\\begin\{(verbatim\*?|Verbatim\*?|BVerbatim|LVerbatim|lstlisting|minted)\}"
    r".*?\\end\{\1\}",
    re.DOTALL,
)
_INLINE_CODE = re.compile(
    r"\\(?:verb\*?|lstinline(?:\[[^\]]*\])?)(?:\{[^{}]*\}|([^\sA-Za-z*{]).*?\1)"
)


class UnsourcedNumber(BaseModel):
    number: str
    line: int
    context: str

    def __str__(self) -> str:
        return f"{self.number} (line {self.line}: {self.context})"


def numbers_in(value: Any) -> Iterable[float]:
    """Every number inside a (nested) configuration value, strings included."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, str):
        for match in re.finditer(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", value):
            yield float(match.group())
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from numbers_in(item)


def _matches(literal: str, sources: Iterable[float]) -> bool:
    text = literal.replace(",", "")
    value = abs(float(text))
    decimals = len(text.split(".")[1]) if "." in text else 0
    for source in sources:
        source = abs(source)
        if math.isclose(value, source, rel_tol=1e-9, abs_tol=1e-12):
            return True
        if decimals and math.isclose(round(source, decimals), value, abs_tol=10**-decimals / 2):
            return True
        if source and 0 < value <= 100 and math.isclose(value, 100 * source, rel_tol=1e-6):
            return True
    return False


def body_of(tex: str) -> tuple[str, int]:
    """The document body and the line it starts on (the preamble is not prose)."""
    marker = "\\begin{document}"
    start = tex.find(marker)
    if start < 0:
        return tex, 1
    return tex[start:], tex[:start].count("\n") + 1


def _without_listings(tex: str) -> str:
    """`tex` with each line of its code listings blanked, so every line keeps its number."""
    return _LISTING.sub(lambda match: "\n".join(" " for _ in match.group().splitlines()), tex)


def find_unsourced(
    tex: str, *, sources: Iterable[float], years: Iterable[int] = ()
) -> list[UnsourcedNumber]:
    """Numbers in `tex`'s body, outside code, that are not macros, config values, cited
    years or refs."""
    allowed = [*sources, *(float(y) for y in years)]
    body, first_line = body_of(tex)
    found: list[UnsourcedNumber] = []
    lines = zip(body.splitlines(), _without_listings(body).splitlines(), strict=True)
    for offset, (raw, prose) in enumerate(lines):
        line = _INLINE_CODE.sub(" ", prose)
        line = _COMMENT.sub("", line)
        line = _NON_PROSE_ARGS.sub(" ", line)
        line = _OPTIONS.sub(" ", line)
        line = _LENGTH.sub(" ", line)
        line = _MACRO.sub(" ", line)
        for match in _NUMBER.finditer(line):
            literal = match.group().lstrip("+")
            if _matches(literal, allowed):
                continue
            context = raw.strip()
            found.append(
                UnsourcedNumber(number=literal, line=first_line + offset, context=context[:120])
            )
    return found
