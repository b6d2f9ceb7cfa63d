"""`scientist templates import` of a program-search task (OpenEvolve, ShinkaEvolve): the
task folder, unchanged, plus the pack files of `scientist/evolve_adapter`.

The task's program (its code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END lines) is the
pack's one editable file; `run_program.py` scores it with the task's evaluator (the run's
claim) and keeps a copy; `grade_program.py`, the pack's grader, refuses a copy changed
outside the evolve blocks and scores it again with the evaluator of the unedited pack.
`evolve_task.json` tells both which format, program, evaluator and metric.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel

from scientist.errors import TemplateError
from scientist.resources import package_folder
from scientist.safe_tree import copy_tree, is_regular_file
from scientist.templates import Template, load_template, pack_text

ADAPTER = package_folder("evolve_adapter")
ADAPTER_FILES = ("evolve_task.py", "run_program.py", "grade_program.py", "plot_runs.py")
TASK_FILE = "evolve_task.json"
START, END = "EVOLVE-BLOCK-START", "EVOLVE-BLOCK-END"
FORMAT_NAMES = {"openevolve": "OpenEvolve", "shinka": "ShinkaEvolve"}


class EvolveTask(BaseModel):
    """What the pack's adapter files need to know, written to `evolve_task.json`."""

    format: Literal["openevolve", "shinka"]
    program: str
    evaluator: str
    metric: str
    description: str


class EvolveImportRequest(BaseModel):
    """What `templates import` was asked for, for a program-search task."""

    source: Path
    metric: str | None = None
    goal: Literal["maximize", "minimize"] = "maximize"
    name: str | None = None
    into: Path = Path(".")
    smoke_timeout_s: float | None = None


def evolve_programs(source: Path) -> list[str]:
    """The folder's Python files with an evolve block, by name."""
    return sorted(
        path.name
        for path in source.glob("*.py")
        if is_regular_file(source, path.name) and START in (text := _text(path)) and END in text
    )


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def task_description(source: Path, program: str) -> str:
    """The task as its own files describe it: the first paragraph of README.md, else the
    program's docstring; never the prompt its config gives a model."""
    readme = pack_text(source, "README.md") if is_regular_file(source, "README.md") else ""
    for paragraph in re.split(r"\n\s*\n", readme):
        lines = [line.strip() for line in paragraph.strip().splitlines()]
        prose = " ".join(line for line in lines if line and not line.startswith("#"))
        if prose:
            return prose
    docstring = re.search(r'"""(.+?)"""', pack_text(source, program), re.S)
    if docstring:
        return " ".join(docstring.group(1).split())
    return f"Improve the program {program} as its task's evaluator scores it."


def write_evolve_pack(task: EvolveTask, request: EvolveImportRequest) -> Template:
    """Copy the task folder and the adapter into `into/<name>` with a generated manifest."""
    source = request.source
    if (source / "template.toml").exists():
        raise TemplateError(
            f"{source} is already a pack", hint=f"scientist templates check {source}"
        )
    clashes = [name for name in (*ADAPTER_FILES, TASK_FILE) if (source / name).exists()]
    if clashes:
        raise TemplateError(
            f"{source} has files of the names the pack adds: {', '.join(clashes)}",
            hint="rename them in a copy of the task folder",
        )
    if request.metric is not None:
        task = task.model_copy(update={"metric": request.metric})
    name = request.name or re.sub(r"[^a-z0-9_-]+", "_", source.resolve().name.lower())
    target = request.into / name
    if target.exists():
        raise TemplateError(f"{target} already exists", hint="choose another --name or --into")
    copy_tree(source, target, skip=["__pycache__"])
    for filename in ADAPTER_FILES:
        (target / filename).write_bytes((ADAPTER / filename).read_bytes())
    (target / TASK_FILE).write_text(task.model_dump_json(indent=2), encoding="utf-8")
    manifest = _manifest(task, request, name, _requirements(source))
    (target / "template.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")
    return load_template(str(target))


def _requirements(source: Path) -> list[str]:
    """The names in the task's requirements.txt (versions left out), if it has one."""
    if not is_regular_file(source, "requirements.txt"):
        return []
    names = []
    for line in pack_text(source, "requirements.txt").splitlines():
        found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9_.-]*)", line.split("#")[0])
        if found:
            names.append(found.group(1))
    return names


def _manifest(
    task: EvolveTask, request: EvolveImportRequest, name: str, requirements: list[str]
) -> dict[str, object]:
    blocks = f"only its code between the {START} and {END} lines may change"
    manifest: dict[str, object] = {
        "name": name,
        "title": f"{name.replace('_', ' ').capitalize()} (a {FORMAT_NAMES[task.format]} task)",
        "description": f"{task.description} The program {task.program} is scored by the "
        f"task's evaluator {task.evaluator} ({task.metric}); {blocks}.",
        "entrypoint": "run_program.py",
        "plot": "plot_runs.py",
        "requirements": requirements,
        "smoke_args": ["--smoke"],
        "metric": {"name": task.metric, "goal": request.goal},
        "grader": {"command": ["python", "grade_program.py"]},
        "agent": {
            "editable": [task.program],
            "protected": [task.evaluator, "evolve_task.py", TASK_FILE],
        },
    }
    if request.smoke_timeout_s is not None:
        manifest["smoke_timeout_s"] = request.smoke_timeout_s
    return manifest
