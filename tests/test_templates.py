"""Pack loading and validation: clear errors that name the file and the field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scientist.errors import TemplateError
from scientist.templates import TEMPLATES_ROOT, list_templates, load_template

TOY = Path(__file__).resolve().parent / "fixtures" / "toy"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    copy = tmp_path / "pack"
    shutil.copytree(TOY, copy)
    return copy


def test_toy_pack_loads_with_seed_ideas():
    template = load_template(str(TOY))
    assert template.name == "toy" and template.metric.name == "score"
    seeds = template.seed_ideas()
    assert [s.name for s in seeds] == ["higher_lr", "wider"]
    assert all(s.origin == "seed" for s in seeds)


def test_shipped_packs_all_load():
    names = {t.name for t in list_templates()}
    assert {p.name for p in TEMPLATES_ROOT.iterdir() if (p / "template.toml").is_file()} == names


def test_bad_field_names_file_and_field(pack: Path):
    manifest = pack / "template.toml"
    manifest.write_text(manifest.read_text().replace('goal = "maximize"', 'goal = "biggest"'))
    with pytest.raises(TemplateError, match=r"template.toml: field 'metric.goal'"):
        load_template(str(pack))


def test_inverted_range_is_rejected(pack: Path):
    manifest = pack / "template.toml"
    text = manifest.read_text().replace("low = 1, high = 4", "low = 4, high = 1")
    manifest.write_text(text)
    with pytest.raises(TemplateError, match=r"search_space\.depth"):
        load_template(str(pack))


def test_missing_entrypoint_is_named(pack: Path):
    (pack / "plot.py").unlink()
    with pytest.raises(TemplateError, match=r"'plot\.py' does not exist"):
        load_template(str(pack))


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("timeout_s = 60", "timeout_s = inf", "resources.timeout_s"),
        ("cpus = 1", "cpus = 1e308", "resources.cpus"),
        ("memory_gb = 1", "memory_gb = nan", "resources.memory_gb"),
    ],
)
def test_limits_of_a_pack_are_finite_and_bounded(pack: Path, old: str, new: str, field: str):
    manifest = pack / "template.toml"
    manifest.write_text(manifest.read_text().replace(old, new))
    with pytest.raises(TemplateError, match=rf"template.toml: field '{field}'"):
        load_template(str(pack))


@pytest.mark.parametrize("name", ["template.toml", "seed_ideas.json"])
def test_a_pack_file_that_is_not_utf8_is_one_clear_error(pack: Path, name: str):
    path = pack / name
    path.write_bytes(path.read_bytes().replace(b"Toy", b"T\xffy").replace(b"tenfold", b"ten\xff"))
    with pytest.raises(TemplateError, match=rf"{name} is not UTF-8 text \(byte \d+"):
        load_template(str(pack)).seed_ideas()


def test_bad_seed_idea_names_its_index(pack: Path):
    (pack / "seed_ideas.json").write_text('[{"name": "ok", "title": "t"}]')
    with pytest.raises(TemplateError, match=r"seed_ideas.json: idea 0: field 'hypothesis'"):
        load_template(str(pack)).seed_ideas()


def test_unknown_pack_lists_known_ones():
    with pytest.raises(TemplateError, match="no experiment pack 'nope'"):
        load_template("nope")


def test_content_hash_follows_the_files(pack: Path):
    before = load_template(str(pack)).content_hash()
    assert load_template(str(pack)).content_hash() == before
    (pack / "experiment.py").write_text((pack / "experiment.py").read_text() + "\n# edited\n")
    assert load_template(str(pack)).content_hash() != before


def test_final_info_must_carry_the_pack_metric(pack: Path, tmp_path: Path):
    template = load_template(str(pack))
    info = tmp_path / "final_info.json"
    info.write_text(
        '{"metrics": {"loss": {"mean": 1, "values": [1]}}, "seeds": [0], "runtime_s": 1}'
    )
    with pytest.raises(TemplateError, match="metric 'score'"):
        template.read_final_info(info)
    info.write_text('{"metrics": {}, "seeds": [0], "runtime_s": 1}')
    with pytest.raises(TemplateError, match="field 'metrics'"):
        template.read_final_info(info)
    with pytest.raises(TemplateError, match="was not written"):
        template.read_final_info(tmp_path / "absent.json")


def test_a_pack_in_a_configured_folder_is_found_by_name(tmp_path: Path, monkeypatch):
    shutil.copytree(TOY, tmp_path / "mine" / "toy")
    monkeypatch.setenv("SCIENTIST_PACKS", str(tmp_path / "mine"))
    assert load_template("toy").root == (tmp_path / "mine" / "toy").resolve()
    listed = {t.name: t.root for t in list_templates()}
    assert listed["toy"] == (tmp_path / "mine" / "toy").resolve()
    assert {"merge", "namm"} <= set(listed)


def test_a_configured_folder_that_is_missing_is_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SCIENTIST_PACKS", str(tmp_path / "absent"))
    with pytest.raises(TemplateError, match=r"SCIENTIST_PACKS names .*absent"):
        load_template("toy")


def test_an_unknown_pack_lists_the_known_ones():
    with pytest.raises(TemplateError, match="no experiment pack 'nope'") as caught:
        load_template("nope")
    assert "merge" in (caught.value.hint or "")


def _write_seeds(pack: Path, *overrides: dict) -> None:
    rows = [
        {"name": f"idea_{k}", "title": "t", "hypothesis": "h", "plan": "p", "overrides": o}
        for k, o in enumerate(overrides)
    ]
    (pack / "seed_ideas.json").write_text(json.dumps(rows))


def test_a_seed_idea_restating_the_baseline_config_repeats_it(pack: Path):
    _write_seeds(pack, {"lr": 0.01}, {"lr": 0.01, "width": 32}, {}, {"depth": 9})
    resolved = {"lr": 0.01, "width": 16, "depth": 2}
    repeats = load_template(str(pack)).seed_ideas_repeating_baseline(resolved)
    assert repeats == ["idea_0"]  # idea_2 sets no knob: a code change, not a repeat


def test_a_seed_idea_must_set_every_baseline_knob_to_repeat_it(pack: Path):
    manifest = pack / "template.toml"
    manifest.write_text(manifest.read_text() + "\n[baseline]\nwidth = 8\n")
    _write_seeds(pack, {"lr": 0.01}, {"width": 8}, {"width": 8, "lr": 0.01}, {"width": 16})
    resolved = {"lr": 0.01, "width": 8, "depth": 2}
    repeats = load_template(str(pack)).seed_ideas_repeating_baseline(resolved)
    assert repeats == ["idea_1", "idea_2"]
