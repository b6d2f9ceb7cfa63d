"""What a section's draft gets wrong, as far as code can tell: the items of the critique round.

The critique round asks the model to fix exactly these (numbers without a source, evidence
macros the section may not cite or that do not exist, citation keys outside the
bibliography, a claim stronger than the evidence supports, unbalanced braces or
environments, and the figure review's findings on the figures it discusses). A draft with
none of them has nothing the round would fix, so it is not sent.
"""

from __future__ import annotations

import re

from scientist.writeup.claims import overclaims
from scientist.writeup.context import PaperContext
from scientist.writeup.evidence import PREFIX
from scientist.writeup.verify import find_unsourced

_CITE = re.compile(r"\\(?:cite[tp]?|citeauthor|citeyear)\*?(?:\[[^\]]*\])*\{([^}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_ENVIRONMENT = re.compile(r"\\(begin|end)\{([^}]*)\}")
_ESCAPED_BRACE = re.compile(r"\\[{}]")


def unsourced_in(ctx: PaperContext, fragment: str) -> list[str]:
    """The literal numbers in `fragment` that are not among those it may print."""
    sources = ctx.sources(fragment)
    found = find_unsourced(fragment, sources=sources, years=ctx.bibliography.years())
    return [item.number for item in found]


def draft_problems(ctx: PaperContext, draft: str, figure_notes: str = "") -> list[str]:
    """Each problem of `draft` the critique round is to fix, in a line ([] when none)."""
    problems = []
    if numbers := unsourced_in(ctx, draft):
        problems.append(f"numbers without a source: {', '.join(numbers)}")
    commands = set(_COMMAND.findall(draft))
    citable = ctx.citable(draft)
    macros = sorted(c for c in commands if c.startswith(PREFIX) and c not in citable)
    if macros:
        problems.append(f"evidence macros this section may not cite: {', '.join(macros)}")
    keys = {key.strip() for group in _CITE.findall(draft) for key in group.split(",")}
    if unknown := sorted(keys - set(ctx.bibliography.keys) - {""}):
        problems.append(f"citation keys outside the bibliography: {', '.join(unknown)}")
    if phrases := overclaims(draft, ctx.evidence, hypothesis=ctx.idea.hypothesis):
        problems.append(f"claims beyond the evidence: {', '.join(phrases)}")
    if not _balanced(draft):
        problems.append("unbalanced braces or environments")
    if figure_notes.strip():
        problems.append("the figure review's findings")
    return problems


def _balanced(latex: str) -> bool:
    """Braces pair up (escaped ones aside) and every \\begin has its \\end, in order."""
    depth = 0
    for char in _ESCAPED_BRACE.sub("", latex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    if depth:
        return False
    open_environments: list[str] = []
    for kind, name in _ENVIRONMENT.findall(latex):
        if kind == "begin":
            open_environments.append(name)
        elif not open_environments or open_environments.pop() != name:
            return False
    return not open_environments
