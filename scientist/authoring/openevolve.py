"""An OpenEvolve task folder: a program with EVOLVE-BLOCK markers, `evaluator.py` whose
`evaluate(program_path)` returns the metrics, and an optional `config.yaml`.

OpenEvolve maximises `combined_score` unless its config names another
`early_stopping_metric`; that metric, maximised, becomes the pack's.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from scientist.authoring.program_search import EvolveTask, evolve_programs, task_description
from scientist.errors import TemplateError
from scientist.templates import pack_text

EVALUATOR = "evaluator.py"
PROGRAM = "initial_program.py"
DEFAULT_METRIC = "combined_score"


def is_openevolve(source: Path) -> bool:
    return (source / EVALUATOR).is_file() and bool(_programs(source))


def read_openevolve(source: Path) -> EvolveTask:
    """The task in `source` (an OpenEvolve folder, see `is_openevolve`)."""
    programs = _programs(source)
    if len(programs) > 1 and PROGRAM not in programs:
        raise TemplateError(
            f"{source} has several programs with EVOLVE-BLOCK markers: {', '.join(programs)}",
            hint=f"keep one, or name it {PROGRAM}",
        )
    program = PROGRAM if PROGRAM in programs else programs[0]
    return EvolveTask(
        format="openevolve",
        program=program,
        evaluator=EVALUATOR,
        metric=_config_metric(source),
        description=task_description(source, program),
    )


def _programs(source: Path) -> list[str]:
    return [name for name in evolve_programs(source) if name != EVALUATOR]


def _config_metric(source: Path) -> str:
    """The config's `early_stopping_metric` (config.yaml, else the first config*.yaml by
    name), else OpenEvolve's default."""
    configs = sorted(p.name for p in source.glob("config*.yaml") if p.is_file())
    if not configs:
        return DEFAULT_METRIC
    name = "config.yaml" if "config.yaml" in configs else configs[0]
    try:
        config = yaml.safe_load(pack_text(source, name)) or {}
    except yaml.YAMLError as exc:
        raise TemplateError(f"{source / name} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise TemplateError(f"{source / name}: expected a mapping of settings")
    metric = config.get("early_stopping_metric", DEFAULT_METRIC)
    if not isinstance(metric, str):
        raise TemplateError(f"{source / name}: early_stopping_metric should be a metric's name")
    return metric
