"""A ShinkaEvolve task folder: `initial.py` with EVOLVE-BLOCK markers and `evaluate.py`,
run as `python evaluate.py --program_path P --results_dir D`, which writes D/metrics.json
and D/correct.json.

ShinkaEvolve maximises the evaluator's `combined_score`; it becomes the pack's metric.
"""

from __future__ import annotations

from pathlib import Path

from scientist.authoring.program_search import EvolveTask, evolve_programs, task_description
from scientist.errors import TemplateError

EVALUATOR = "evaluate.py"
PROGRAM = "initial.py"
METRIC = "combined_score"


def is_shinka(source: Path) -> bool:
    return (source / EVALUATOR).is_file() and any(
        p.name.startswith("initial.") for p in source.iterdir() if p.is_file()
    )


def read_shinka(source: Path) -> EvolveTask:
    """The task in `source` (a ShinkaEvolve folder, see `is_shinka`)."""
    if PROGRAM not in evolve_programs(source):
        others = sorted(p.name for p in source.glob("initial.*"))
        raise TemplateError(
            f"{source}: no {PROGRAM} with EVOLVE-BLOCK markers (found: {', '.join(others)})",
            hint="scientist imports ShinkaEvolve tasks whose program is Python",
        )
    return EvolveTask(
        format="shinka",
        program=PROGRAM,
        evaluator=EVALUATOR,
        metric=METRIC,
        description=task_description(source, PROGRAM),
    )
