"""What `templates import` infers from a v1 template's code and a probe run, on fixtures
written for these tests (tests/fixtures/ai_scientist): `decay` is deterministic with argparse
settings (like seir, plus flags), `gpunet` hard-codes CUDA and imports a module that does
not import here (like nanoGPT and 2d_diffusion), `polyfit` reports values per seed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.authoring.importer import ImportRequest, import_template
from scientist.authoring.inference import inferred_gpu
from scientist.errors import TemplateError
from scientist.manifest import Range
from scientist.templates import load_template
from tests.authoring.cli import scientist

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ai_scientist"
DECAY, GPUNET = FIXTURES / "decay", FIXTURES / "gpunet"


def test_requirements_and_a_hard_coded_gpu_are_read_from_the_code(tmp_path):
    """numpy and torch import here, json and os are the standard library, `model` is the
    template's own module: only npeet is left to install. The probe run fails (no npeet, no
    CUDA), which does not stop the import."""
    created = scientist(
        "templates", "import", GPUNET, "--metric", "loss", "--aggregate", "mean", cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert "inferred: requirements npeet; gpu required; seeding stochastic" in created.stdout
    manifest = load_template(str(tmp_path / "gpunet")).manifest
    assert manifest.requirements == ["npeet"]
    assert manifest.resources.gpu == "required"


@pytest.mark.parametrize(
    ("code", "gpu"),
    [
        ('device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n', "optional"),
        ('net = net.to("cuda:0")\n', "required"),
        ("net = net.cuda()\n", "required"),
        ("if torch.cuda.is_available():\n    net = net.cuda()\n", "optional"),
        ("import numpy as np\n", "none"),
    ],
)
def test_a_gpu_is_required_only_when_the_code_has_no_fallback(tmp_path, code, gpu):
    (tmp_path / "experiment.py").write_text("import torch\n" + code)
    assert inferred_gpu(tmp_path) == gpu


def test_argparse_flags_become_knobs_and_a_repeatable_template_is_deterministic(tmp_path):
    template = import_template(
        ImportRequest(source=DECAY, metric="exposure", aggregate="mean", into=tmp_path)
    )
    manifest = template.manifest
    assert manifest.seeding == "deterministic"  # two probe runs wrote the same file
    assert manifest.resources.gpu == "none" and manifest.requirements == []
    space = manifest.search_space
    assert set(space) == {"absorption", "clearance", "hours", "method"}  # no --out_dir, switch
    assert space["method"] == ["euler", "rk4"]
    assert space["hours"] == Range(low=24, high=96, log=True, integer=True)
    assert space["absorption"] == Range(low=0.4, high=1.6, log=True)
    assert manifest.baseline == {"absorption": 0.8, "clearance": 0.2, "hours": 48, "method": "rk4"}
    task = json.loads((DECAY / "prompt.json").read_text())["task_description"]
    assert manifest.description.startswith("A two-compartment drug model")
    assert "You are given" not in manifest.description and task not in manifest.description

    _, *args = template.run_argv("out", "overrides.json", smoke=False)
    (template.root / "overrides.json").write_text(json.dumps({"hours": 2, "seeds": [0]}))
    ran = subprocess.run([sys.executable, *args], cwd=template.root, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    written = json.loads((template.root / "out" / "final_info.json").read_text())
    assert len(written["DRUG"]["solution"]) == 3  # --hours=2: 20 steps, every tenth kept


def test_an_offline_campaign_varies_the_knobs_read_from_the_flags(tmp_path, run_cache):
    pack = import_template(
        ImportRequest(source=DECAY, metric="exposure", aggregate="mean", into=tmp_path / "packs")
    ).root
    result = scientist(
        "run", "--template", pack, "--llm", "none", "--ideas", "2", "--campaign", "c",
        "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    bred = [
        json.loads(path.read_text())
        for path in (tmp_path / "c" / "ideas").glob("1_*/runs/run_1/overrides.json")
    ]
    assert bred and all(set(o) - {"seeds"} <= {"absorption", "clearance", "hours", "method"}
                        for o in bred)  # fmt: skip
    baseline = json.loads(
        (tmp_path / "c" / "baseline" / "run_0" / "outputs" / "final_info.json").read_text()
    )
    changed = [
        json.loads(path.read_text())
        for path in (tmp_path / "c" / "ideas").glob("1_*/runs/run_1/outputs/final_info.json")
    ]
    assert changed and all(info != baseline for info in changed)  # the flags changed the run
    papers = [p.read_text() for p in (tmp_path / "c" / "ideas").glob("1_*/paper/paper.tex")]
    assert papers and all("baseline $\\rightarrow$ idea" in tex for tex in papers)
    assert not any("unset $\\rightarrow$" in tex for tex in papers)  # the template's defaults


def test_a_metric_the_probe_run_lacks_is_named_with_those_it_has(tmp_path):
    with pytest.raises(TemplateError) as refused:
        import_template(
            ImportRequest(source=DECAY, metric="exposre", aggregate="mean", into=tmp_path)
        )
    assert refused.value.message == (
        "the probe run's final_info.json: metric 'exposre' (from template.toml) is missing"
    )
    assert refused.value.hint == "metrics present: exposure, peak_hour, peak_level"
    assert not (tmp_path / "decay").exists()


def test_a_final_info_it_cannot_read_is_named_by_key_with_an_example(tmp_path):
    source = tmp_path / "flat"
    shutil.copytree(DECAY, source)
    script = source / "experiment.py"
    script.write_text(
        script.read_text().replace('{"DRUG": {"means": means,', '{"DRUG": {"means": [1, 2],')
    )
    with pytest.raises(TemplateError) as refused:
        import_template(
            ImportRequest(source=source, metric="exposure", aggregate="mean", into=tmp_path / "p")
        )
    message = refused.value.message
    assert message.startswith("the probe run's final_info.json: not nested by dataset: ")
    assert "at 'DRUG.means': Input should be a valid dictionary, found [1, 2]" in message
    assert 'expected shape: {"<dataset>": {"means": {"<metric>": 0.5}' in message
    assert not (tmp_path / "p" / "flat").exists()
