"""Knobs of an AI Scientist (v1) template, read from its argparse flags without running it.

`experiment.py` is parsed with `ast`, never imported: each `add_argument("--flag", ...)`
whose default is a plain number or which lists `choices` becomes a knob of the pack's
`search_space`, named by the flag's destination, with the template's default as the
baseline. A number `d > 0` varies over [d/2, 2d] on a log scale (whole numbers for an `int`
flag); choices vary over the choices. `--out_dir`, seed flags (seeds are not a setting to
improve), switches, and flags without a plain default are left alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from pydantic import BaseModel

from scientist.ai_scientist import OUT_DIR_FLAG
from scientist.manifest import Choice, Knob, Range


class ArgparseKnobs(BaseModel):
    """What the template's flags give a pack: knobs, their defaults, and the flag of each."""

    search_space: dict[str, Knob] = {}
    baseline: dict[str, Choice] = {}
    flags: dict[str, str] = {}


def argparse_knobs(source: str) -> ArgparseKnobs:
    """The knobs of the `add_argument` calls in a script's `source` (none when it does not
    parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ArgparseKnobs()
    found = ArgparseKnobs()
    for flag, keywords in _add_argument_calls(tree):
        name = _destination(flag, keywords)
        knob = _knob(keywords)
        if flag == OUT_DIR_FLAG or "seed" in name or knob is None:
            continue
        found.search_space[name], found.baseline[name] = knob
        found.flags[name] = flag
    return found


def _add_argument_calls(tree: ast.AST) -> Iterator[tuple[str, dict[str, ast.expr]]]:
    """Each `<parser>.add_argument("--flag", ...)` call: its long option and keywords."""
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant)]
        longs = [n for n in names if isinstance(n, str) and n.startswith("--")]
        if longs:
            yield longs[0], {k.arg: k.value for k in node.keywords if k.arg}


def _destination(flag: str, keywords: dict[str, ast.expr]) -> str:
    dest = keywords.get("dest")
    if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
        return dest.value
    return flag.removeprefix("--").replace("-", "_")


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _knob(keywords: dict[str, ast.expr]) -> tuple[Knob, Choice] | None:
    """The knob and its default for one flag, or None when it is not a plain one."""
    if "action" in keywords or "nargs" in keywords:
        return None
    default = _literal(keywords.get("default"))
    choices = _literal(keywords.get("choices"))
    if isinstance(choices, list | tuple) and choices:
        plain = [c for c in choices if isinstance(c, str | int | float) and not isinstance(c, bool)]
        if len(plain) == len(choices) and default in plain:
            return list(plain), default
        return None
    if isinstance(default, bool) or not isinstance(default, int | float) or default <= 0:
        return None
    type_name = keywords.get("type")
    integer = isinstance(default, int) and not (
        isinstance(type_name, ast.Name) and type_name.id == "float"
    )
    if integer:
        low, high = max(1, default // 2), default * 2
    else:
        low, high = default / 2, default * 2
    return Range(low=low, high=high, log=True, integer=integer), default
