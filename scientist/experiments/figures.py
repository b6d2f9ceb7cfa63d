"""Figures drawn: the pack's plot.py, run through the sandbox over copies of the runs.

Both the code loop (plot feedback after a run) and the writeup (the paper's figures) draw
figures here. Beside the copies of the runs, `run_labels.json` maps each run folder to the
name the paper's table gives it (`run_0` is "Baseline", `run_k` "Run k"), so a plot script
can label runs as the table does. Reading what was drawn is `scientist.records.figures`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from scientist.models import ExperimentRun, RunSpec
from scientist.records.figures import RUN_LABELS, Figure, collect_figures
from scientist.records.runs import OUTPUTS
from scientist.safe_tree import copy_tree
from scientist.templates import Template

if TYPE_CHECKING:
    from scientist.sandbox import Sandbox


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
        copy_tree(template.root, workspace, skip=stale)
        run_args, labels = [], {}
        for run in measured:
            name = "run_0" if run is baseline else f"run_{run.index}"
            copy_tree(run.run_dir / OUTPUTS, workspace / folder / name)
            run_args.append(f"{folder}/{name}")
            labels[name] = "Baseline" if run is baseline else f"Run {run.index}"
        (workspace / folder / RUN_LABELS).write_text(json.dumps(labels), encoding="utf-8")
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
