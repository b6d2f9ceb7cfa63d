"""How this pack's program is scored: its task's own evaluator, as evolve_task.json says.

Shared by run_program.py (the run's claim) and grade_program.py (the score scientist
trusts, computed again from the unedited pack). Protected: the code model may read this
file, never edit it.

evolve_task.json names the task's format ("openevolve": `evaluate(program_path)` of the
evaluator module returns the metrics; "shinka": `python EVALUATOR --program_path P
--results_dir D` writes D/metrics.json and D/correct.json), the program, the evaluator and
the metric. Only the code between the program's EVOLVE-BLOCK-START and EVOLVE-BLOCK-END
lines is the search's to change.
"""

import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PACK = Path(__file__).resolve().parent
TASK = json.loads((PACK / "evolve_task.json").read_text(encoding="utf-8"))
BLOCK = re.compile(r"^[^\n]*EVOLVE-BLOCK-START.*?EVOLVE-BLOCK-END[^\n]*$", re.M | re.S)


class EvaluationFailed(Exception):
    """The evaluator found the program wrong, or returned no usable metric."""


def seeds_of(config_file: Path | None, smoke: bool) -> list[int]:
    """The seeds a run evaluates: the overrides' "seeds" (default [0]); one at smoke size."""
    seeds = [0]
    if config_file is not None:
        seeds = json.loads(config_file.read_text(encoding="utf-8")).get("seeds", seeds)
    return seeds[:1] if smoke else seeds


def fixed_parts(text: str) -> list[str]:
    """The program's text outside its evolve blocks (the part no search may change)."""
    return BLOCK.split(text)


def check_evolve_blocks(program: Path) -> None:
    """Refuse a program changed outside the evolve blocks of the task's own program."""
    pristine = (PACK / TASK["program"]).read_text(encoding="utf-8")
    if fixed_parts(program.read_text(encoding="utf-8")) != fixed_parts(pristine):
        raise EvaluationFailed(
            f"{TASK['program']} was changed outside its EVOLVE-BLOCK-START/END lines"
        )


def evaluate(program: Path, seed: int) -> dict[str, float]:
    """The evaluator's numeric metrics of `program`, Python's and numpy's global random
    generators seeded with `seed` first (an evaluator in its own process is not seeded)."""
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    metrics = _openevolve(program) if TASK["format"] == "openevolve" else _shinka(program)
    error = metrics.get("error")
    if isinstance(error, str) and error:
        raise EvaluationFailed(f"the evaluator reports an error: {error}")
    numeric = {
        key: float(value)
        for key, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    if TASK["metric"] not in numeric:
        raise EvaluationFailed(
            f"the evaluator returned no number '{TASK['metric']}'; "
            f"its numbers: {', '.join(sorted(numeric)) or 'none'}"
        )
    return numeric


def _openevolve(program: Path) -> dict:
    spec = importlib.util.spec_from_file_location("task_evaluator", PACK / TASK["evaluator"])
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(PACK))
    spec.loader.exec_module(module)
    result = module.evaluate(str(program))
    return dict(getattr(result, "metrics", result))


def _shinka(program: Path) -> dict:
    with tempfile.TemporaryDirectory() as results:
        argv = [sys.executable, str(PACK / TASK["evaluator"])]
        argv += ["--program_path", str(program.resolve()), "--results_dir", results]
        done = subprocess.run(argv, cwd=PACK, capture_output=True, text=True)
        print(done.stdout, end="", flush=True)
        print(done.stderr, end="", file=sys.stderr, flush=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
            code = done.returncode
            raise EvaluationFailed(f"{TASK['evaluator']} exited with code {code}: {last}")
        correct = json.loads((Path(results) / "correct.json").read_text(encoding="utf-8"))
        if not correct.get("correct", False):
            raise EvaluationFailed(f"the evaluator found the program incorrect: {correct}")
        return json.loads((Path(results) / "metrics.json").read_text(encoding="utf-8"))
