"""`scientist templates new NAME`: a working pack from the scaffold shipped with scientist."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from scientist.errors import TemplateError
from scientist.resources import package_folder
from scientist.safe_tree import copy_tree

SCAFFOLD = package_folder("scaffold")
FILLED_IN = ("template.toml", "README.md")
PACK_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def new_pack(name: str, parent: Path) -> Path:
    """Write the scaffold to `parent/name` with the pack's name filled in; return the pack."""
    if not PACK_NAME.match(name):
        raise TemplateError(
            f"'{name}' is not a pack name",
            hint="use lower-case letters, digits, '_' or '-', starting with a letter",
        )
    target = parent / name
    if target.exists():
        raise TemplateError(f"{target} already exists", hint="choose another name or --into")
    copy_tree(SCAFFOLD, target, skip=["__pycache__"])
    values = {"name": name, "title": name.replace("_", " ").replace("-", " ").capitalize()}
    values["path"] = str(target)
    for filename in FILLED_IN:
        path = target / filename
        path.write_text(Template(path.read_text("utf-8")).substitute(values), "utf-8")
    return target
