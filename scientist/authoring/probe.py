"""The probe run of an imported template: its smoke run, in the local sandbox, at import.

It checks what only a run shows: that `final_info.json` has a shape the pack reads and the
metric asked for (a mistake is a TemplateError naming the key and an example of the expected
shape, or the metrics there are). A template that reports no values per seed (no
`final_info_dict`, one value per metric) is run a second time: identical `final_info.json`
files make it deterministic. A run that fails or is still going at its smoke limit tells
nothing; the import goes on.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from scientist.config import load_config
from scientist.errors import SandboxError, TemplateError
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.models import ExperimentRun, FinalInfo
from scientist.records.runs import FINAL_INFO, OUTPUTS
from scientist.sandbox import open_sandbox
from scientist.templates import Template


def probe_determinism(template: Template) -> bool:
    """Run the pack's smoke run once or twice: whether it proved deterministic (False when
    the probe could not tell: no sandbox here, a failed run, a run still going at its smoke
    limit, values per seed). TemplateError when its final_info.json does not give the
    pack's metric."""
    config = load_config(None, {"template": str(template.root), "smoke": True})
    config = config.model_copy(update={"seeds": config.seeds[:1]})
    try:
        sandbox = open_sandbox(config.sandbox)
    except SandboxError:
        return False
    with tempfile.TemporaryDirectory(prefix="scientist-probe-") as scratch:
        root = Path(scratch)

        def run(index: int) -> tuple[ExperimentRun, bytes | None]:
            done = execute_run(
                sandbox,
                template,
                config,
                idea_id="probe",
                index=index,
                code_dir=prepare_code_dir(template, root / f"code_{index}"),
                run_dir=root / f"run_{index}",
                overrides={**template.manifest.baseline, "seeds": config.seeds},
            )
            path = root / f"run_{index}" / OUTPUTS / FINAL_INFO
            return done, path.read_bytes() if path.is_file() else None

        first, output = run(0)
        if first.result.exit_code != 0 or output is None:
            return False
        path = root / "run_0" / OUTPUTS / FINAL_INFO
        try:
            info = template.read_final_info(path, measured_s=first.result.duration_s)
        except TemplateError as exc:  # named without the scratch folder, gone by now
            problem = exc.message.removeprefix(f"{path}: ")
            raise TemplateError(
                f"the probe run's final_info.json: {problem}", hint=exc.hint
            ) from None
        if _per_seed(json.loads(output), info):
            return False
        second, again = run(1)
        return second.result.exit_code == 0 and again == output


def _per_seed(data: object, info: FinalInfo) -> bool:
    """Whether the run reports values per seed (a v1 `final_info_dict`, or several values)."""
    nested = isinstance(data, dict) and any(
        isinstance(entry, dict) and entry.get("final_info_dict") for entry in data.values()
    )
    return nested or any(len(summary.values) > 1 for summary in info.metrics.values())
