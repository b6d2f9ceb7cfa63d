"""What an imported template is about, in its own words, never in words meant for a model.

prompt.json's `task_description` is an instruction to a model ("You are given the following
file to work with, which run the SEIR infection model."); a paper must not open with it.
The template's own description is the module docstring of `experiment.py`, else its leading
comment block of at least five words (rules of dashes dropped); without either, the task
description less its sentences addressed to the model ("Please ..."), with "You are given
the following file to work with, which trains X" read as "The experiment trains X".
"""

from __future__ import annotations

import ast
import re

ADDRESSED = re.compile(r"^(you|your|please|we want you)\b", re.IGNORECASE)
GIVEN_FILE = re.compile(
    r"^you are given (?:the following |a )?(?:files?|code)(?: to work with)?,? (?:which|that) "
    r"(?P<does>.+)$",
    re.IGNORECASE,
)
MIN_WORDS = 5
RULE = re.compile(r"^[-=#*_\s]*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def own_description(experiment: str, task_description: str) -> str:
    """The template's description of itself, from `experiment.py`'s text, else from the
    task description with what addresses a model left out ('' when nothing remains)."""
    return (
        _docstring(experiment) or _leading_comments(experiment) or _not_addressed(task_description)
    )


def _docstring(source: str) -> str:
    try:
        text = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        return ""
    return " ".join(text.split())


def _leading_comments(source: str) -> str:
    """The first block of `#` comment lines before the first statement that is not an
    import (a shebang, coding line or rule of dashes skipped)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ""
    imports = {
        line
        for node in body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    lines: list[str] = []
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#!") or re.match(r"#.*coding[:=]", stripped):
            continue
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if not RULE.match(text):
                lines.append(text)
        elif lines or (stripped and number not in imports):
            break
    block = " ".join(lines)
    return block if len(block.split()) >= MIN_WORDS else ""


def _not_addressed(task_description: str) -> str:
    """The sentences not addressed to a model; "You are given a file ..., which trains X"
    says what the experiment does, so it becomes "The experiment trains X"."""
    kept = []
    for sentence in SENTENCE_END.split(" ".join(task_description.split())):
        given = GIVEN_FILE.match(sentence)
        if given:
            kept.append(f"The experiment {given['does']}")
        elif sentence and not ADDRESSED.match(sentence):
            kept.append(sentence)
    return " ".join(kept)
