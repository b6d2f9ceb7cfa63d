"""Figures: the pack's plot.py, run through the sandbox over copies of the runs."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from scientist.experiments.runs import OUTPUTS
from scientist.models import ExperimentRun, RunSpec
from scientist.templates import Template
from scientist.writeup.context import Figure

if TYPE_CHECKING:
    from scientist.sandbox import Sandbox

CAPTIONS_FILE = "captions.json"


def _caption(stem: str, captions: dict[str, str], pack: str) -> str:
    if stem in captions:
        return captions[stem]
    words = re.sub(r"[_\-]+", " ", re.sub(r"\d+", " ", stem)).strip() or "results"
    return f"{words[:1].upper()}{words[1:]}, drawn by the {pack} pack's plot script from the runs."


def make_figures(
    template: Template,
    baseline: ExperimentRun | None,
    runs: list[ExperimentRun],
    sandbox: Sandbox,
    figures_dir: Path,
    *,
    timeout_s: float = 300,
) -> tuple[list[Figure], str]:
    """Run plot.py; figures (PDF preferred over PNG of the same name) and an error or ''."""
    measured = [run for run in ([baseline] if baseline else []) + runs if run and run.final_info]
    if not measured:
        return [], "no run produced results to plot"
    with tempfile.TemporaryDirectory(prefix="scientist-plot-") as tmp:
        workspace = Path(tmp) / "pack"
        folder = template.plot_runs_folder
        stale = ("runs", "out", "run_*") if folder == "." else ("runs", "out")
        shutil.copytree(template.root, workspace, ignore=shutil.ignore_patterns(*stale))
        run_args = []
        for run in measured:
            name = "run_0" if run is baseline else f"run_{run.index}"
            shutil.copytree(run.run_dir / OUTPUTS, workspace / folder / name, dirs_exist_ok=True)
            run_args.append(f"{folder}/{name}")
        spec = RunSpec(
            workspace=workspace,
            argv=template.plot_argv(run_args),
            timeout_s=timeout_s,
            output_subdir="out",
            output_dir=figures_dir,
            labels={"scientist.step": "plot"},
        )
        result = sandbox.run(spec)
    if not result.ok:
        tail = (result.stderr_tail or result.message).strip().splitlines()[-1:]
        return [], f"plot.py failed ({result.status}): {' '.join(tail)}"
    return collect_figures(figures_dir, template.name), ""


def collect_figures(figures_dir: Path, pack: str) -> list[Figure]:
    captions_path = figures_dir / CAPTIONS_FILE
    captions = json.loads(captions_path.read_text()) if captions_path.is_file() else {}
    chosen: dict[str, Path] = {}
    for path in sorted(figures_dir.glob("*")):
        if path.suffix.lower() == ".pdf" or (
            path.suffix.lower() == ".png" and path.stem not in chosen
        ):
            chosen[path.stem] = path
    figures: list[Figure] = []
    for stem, path in sorted(chosen.items()):
        safe = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-") or "figure"
        if any(figure.label == f"fig:{safe}" for figure in figures):
            safe = f"{safe}-{len(figures)}"
        figures.append(
            Figure(
                label=f"fig:{safe}",
                path=f"figures/{safe}{path.suffix.lower()}",
                caption=_caption(stem, captions, pack),
                source=path,
                name=stem,
            )
        )
    return figures
