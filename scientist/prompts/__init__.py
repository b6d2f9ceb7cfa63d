"""Every prompt the models are sent: one Markdown file each under `scientist/prompts/<area>/`,
rendered by `render_prompt`, the one renderer.

Placeholders are `$name` (not braces, so LaTeX and JSON in prompts need no escaping; a
literal dollar is `$$`). Rendering is strict both ways: a placeholder without a field and a
field without a placeholder are errors, so a misspelt `$field` never reaches a model.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

PROMPTS_DIR = Path(__file__).resolve().parent


@cache
def prompt_template(name: str) -> Template:
    """The prompt `name` (`"<area>/<file stem>"`, e.g. `"code/implement"`)."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt file {path}")
    return Template(path.read_text(encoding="utf-8"))


def placeholders(name: str) -> set[str]:
    """The `$fields` the prompt `name` needs."""
    return set(prompt_template(name).get_identifiers())


def render_prompt(name: str, **fields: object) -> str:
    """The prompt `name` with every placeholder filled by `str(field)`.

    Raises TypeError (a caller's bug, like a wrong keyword argument) when a placeholder has
    no field or a field has no placeholder.
    """
    needed = placeholders(name)
    missing, unused = needed - fields.keys(), fields.keys() - needed
    if missing or unused:
        problems = [f"missing {sorted(missing)}"] * bool(missing)
        problems += [f"unused {sorted(unused)}"] * bool(unused)
        raise TypeError(f"prompt '{name}': {'; '.join(problems)}")
    return prompt_template(name).substitute({key: str(value) for key, value in fields.items()})
