"""Which task format a folder holds, for `scientist templates import`: an AI Scientist (v1)
template, an OpenEvolve task or a ShinkaEvolve task."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from scientist.authoring.importer import REQUIRED
from scientist.authoring.openevolve import is_openevolve, read_openevolve
from scientist.authoring.program_search import EvolveImportRequest, write_evolve_pack
from scientist.authoring.shinka import is_shinka, read_shinka
from scientist.errors import TemplateError
from scientist.templates import Template

TaskFormat = Literal["ai_scientist", "openevolve", "shinka"]


def task_format(source: Path) -> TaskFormat:
    """The format of the task folder `source`; TemplateError when it is none of them."""
    if not source.is_dir():
        raise TemplateError(f"{source} is not a directory")
    if all((source / name).is_file() for name in REQUIRED):
        return "ai_scientist"
    if is_shinka(source):
        return "shinka"
    if is_openevolve(source):
        return "openevolve"
    raise TemplateError(
        f"{source} is not a task folder scientist can import",
        hint="an AI Scientist template has experiment.py, plot.py and prompt.json; an "
        "OpenEvolve task evaluator.py and a program with EVOLVE-BLOCK markers; a "
        "ShinkaEvolve task evaluate.py and initial.py",
    )


def import_evolve_task(request: EvolveImportRequest, fmt: TaskFormat) -> Template:
    """Make a pack of the OpenEvolve or ShinkaEvolve task in `request.source`."""
    reader = read_shinka if fmt == "shinka" else read_openevolve
    return write_evolve_pack(reader(request.source), request)
