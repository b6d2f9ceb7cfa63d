"""Every prompt file is rendered somewhere with exactly the fields it needs.

The check reads the source: each `render_prompt("<area>/<name>", field=...)` call in
`scientist/` names its prompt and its fields literally, and those fields must equal the
prompt's placeholders. A prompt no call renders is dead and fails too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scientist
from scientist.prompts import PROMPTS_DIR, placeholders, render_prompt

PACKAGE = Path(scientist.__file__).resolve().parent


def render_calls() -> list[tuple[str, str, set[str]]]:
    """(where, prompt name, keyword names) of every `render_prompt` call in the package."""
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name != "render_prompt":
                continue
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                f"{where}: the prompt name must be a literal"
            )
            assert all(k.arg is not None for k in node.keywords), f"{where}: no **fields"
            calls.append((where, first.value, {k.arg for k in node.keywords}))
    return calls


CALLS = render_calls()
PROMPT_FILES = sorted(
    str(path.relative_to(PROMPTS_DIR).with_suffix("")) for path in PROMPTS_DIR.rglob("*.md")
)


@pytest.mark.parametrize(("where", "name", "fields"), CALLS, ids=[c[0] for c in CALLS])
def test_each_call_passes_exactly_the_placeholders(where: str, name: str, fields: set[str]):
    needed = placeholders(name)
    assert fields == needed, f"{where}: missing {needed - fields}, unused {fields - needed}"


@pytest.mark.parametrize("name", PROMPT_FILES)
def test_each_prompt_file_is_rendered_somewhere(name: str):
    assert name in {called for _, called, _ in CALLS}, f"prompt {name} is never rendered"


def test_the_renderer_refuses_a_missing_or_an_unused_field():
    fields = dict.fromkeys(placeholders("code/debug"), "x")
    assert "x" in render_prompt("code/debug", **fields)
    with pytest.raises(TypeError, match=r"missing \['stderr'\]"):
        render_prompt("code/debug", **{k: v for k, v in fields.items() if k != "stderr"})
    with pytest.raises(TypeError, match=r"unused \['stdout'\]"):
        render_prompt("code/debug", stdout="y", **fields)
