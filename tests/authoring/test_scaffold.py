"""`scientist templates new`: the scaffolded pack passes `templates check` as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.authoring.scaffold import new_pack
from scientist.errors import TemplateError
from scientist.models import FinalInfo
from scientist.templates import load_template
from tests.authoring.cli import scientist


def test_a_new_pack_passes_templates_check(tmp_path: Path, run_cache: Path):
    created = scientist("templates", "new", "ridge_lab", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    pack = tmp_path / "ridge_lab"
    template = load_template(str(pack))
    assert template.name == "ridge_lab"
    assert set(template.manifest.search_space) == {"learning_rate", "l2", "steps"}
    assert [idea.name for idea in template.seed_ideas()] == ["stronger_l2", "longer_training"]
    assert "scientist templates check" in (pack / "README.md").read_text()

    checked = scientist("templates", "check", str(pack), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok: ridge_lab: manifest, 2 seed ideas, smoke run test_r2")
    assert "(graded)" in checked.stdout
    assert template.protected == ["heldout.py", "grader.py"]


def test_the_scaffold_experiment_honours_overrides_and_writes_final_info(tmp_path: Path):
    pack = new_pack("knobs", tmp_path)
    (tmp_path / "overrides.json").write_text(json.dumps({"l2": 1.0, "seeds": [3, 4]}))
    out, overrides = str(tmp_path / "out"), str(tmp_path / "overrides.json")
    subprocess.run(
        [sys.executable, "experiment.py", "--out-dir", out, "--smoke", "--config", overrides],
        cwd=pack,
        check=True,
        capture_output=True,
    )
    info = FinalInfo.model_validate_json((tmp_path / "out" / "final_info.json").read_text())
    assert info.config["l2"] == 1.0 and info.seeds == [3, 4]
    assert len(info.metrics["test_r2"].values) == 2 and info.metrics["test_r2"].std > 0


@pytest.mark.parametrize("name", ["Bad Name", "1st", "../escape"])
def test_a_bad_name_is_refused(tmp_path: Path, name: str):
    with pytest.raises(TemplateError, match="is not a pack name"):
        new_pack(name, tmp_path)


def test_an_existing_folder_is_never_overwritten(tmp_path: Path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(TemplateError, match="already exists"):
        new_pack("taken", tmp_path)


def test_templates_check_reads_the_sandbox_of_a_config_file(tmp_path: Path, run_cache: Path):
    """`--config` applies the file's [sandbox] tables: here a time limit no run can meet, and
    a docker image that is named when its engine answers."""
    pack = new_pack("ridge_lab", tmp_path)
    strict = tmp_path / "strict.toml"
    strict.write_text("[sandbox]\ntimeout_s = 0.001\n")
    refused = scientist("templates", "check", str(pack), "--config", str(strict), cwd=tmp_path)
    assert refused.returncode != 0
    assert "the smoke run of pack 'ridge_lab' failed (timeout)" in refused.stderr
    assert "Traceback" not in refused.stderr

    image = "scientist-tests/no-such-image:0"
    docker = tmp_path / "docker.toml"
    docker.write_text(f'[sandbox]\nkind = "docker"\n\n[sandbox.docker]\nimage = "{image}"\n')
    checked = scientist("templates", "check", str(pack), "--config", str(docker), cwd=tmp_path)
    assert checked.returncode != 0 and "Traceback" not in checked.stderr
    if "image" in checked.stderr:  # the engine answered: it was asked for the file's image
        assert image in checked.stderr
