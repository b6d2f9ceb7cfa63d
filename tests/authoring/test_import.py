"""`scientist templates import` on a template in AI Scientist's (v1) format
(tests/fixtures/ai_scientist/polyfit, written for these tests): the pack passes
`templates check`, and a scripted-model campaign runs it end to end."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from scientist.ai_scientist import AIScientistFormat
from scientist.authoring.importer import ImportRequest, import_template
from scientist.config import CampaignConfig
from scientist.errors import LinkRefused, TemplateError
from scientist.graph.runner import start_campaign
from scientist.review.form import REVIEWS_ROOT
from tests.authoring.cli import scientist

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "ai_scientist" / "polyfit"
METRIC = "final_val_loss_mean"
BLOCK = "experiment.py\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"


def digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def imported(tmp_path: Path, **fields) -> Path:
    request = {"source": V1, "metric": METRIC, "goal": "minimize", "into": tmp_path, **fields}
    return import_template(ImportRequest(**request)).root


def test_an_imported_template_passes_check_with_its_files_unchanged(tmp_path, run_cache):
    before = digest(V1)
    created = scientist(
        "templates", "import", V1, "--metric", METRIC, "--goal", "minimize",
        "--dataset", "sine", "--smoke-args", "--num_seeds=1", cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "code changes, which need a model" in created.stdout
    pack = tmp_path / "polyfit"
    assert digest(V1) == before
    copied = {k: v for k, v in digest(pack).items() if k != "template.toml"}
    assert copied == before

    checked = scientist("templates", "check", pack, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert f"2 seed ideas, smoke run {METRIC} = " in checked.stdout


def test_the_manifest_carries_the_task_and_seed_ideas_become_code_changes(tmp_path):
    from scientist.templates import load_template

    template = load_template(str(imported(tmp_path, dataset="sine")))
    task = json.loads((V1 / "prompt.json").read_text())["task_description"]
    description = template.manifest.description  # the template's own words, not the prompt's
    assert description.startswith("A small template in AI Scientist's (v1) format")
    assert task not in description and "Please" not in description
    assert template.manifest.seeding == "stochastic"  # it reports values per seed
    assert template.manifest.search_space == {}
    assert template.manifest.smoke_timeout_s == 60  # no smaller setting declared
    assert template.run_argv("out", "overrides.json", smoke=False) == [
        "python", "experiment.py", "--out_dir=out",
    ]  # fmt: skip
    seeds = template.seed_ideas()
    rows = json.loads((V1 / "seed_ideas.json").read_text())
    assert [s.plan for s in seeds] == [row["Experiment"] for row in rows]
    assert [s.name for s in seeds] == ["higher_degree", "ridge_penalty"]
    assert all(s.overrides == {} and s.origin == "seed" for s in seeds)


def test_nested_final_info_reads_one_dataset_or_the_mean_over_datasets():
    data = json.loads((V1 / "run_0" / "final_info.json").read_text())
    one = AIScientistFormat(dataset="tanh").final_info(data, 2.5)
    per_seed = data["tanh"]["final_info_dict"]["final_val_loss"]
    assert one.metrics[METRIC].values == per_seed
    assert one.metrics[METRIC].mean == pytest.approx(data["tanh"]["means"][METRIC])
    assert one.seeds == [0, 1, 2] and one.runtime_s == 2.5

    mean = AIScientistFormat(aggregate="mean").final_info(data, 0.0)
    per_dataset = [data[name]["means"][METRIC] for name in ("sine", "tanh")]
    assert len(mean.metrics[METRIC].values) == len(mean.seeds) == 3  # seeds, not datasets
    assert mean.metrics[METRIC].mean == pytest.approx(sum(per_dataset) / 2)
    with pytest.raises(ValueError, match="no dataset 'cosine'"):
        AIScientistFormat(dataset="cosine").final_info(data, 0.0)


def test_datasets_never_count_as_seeds():
    """Four datasets of three seeds each, averaged: three values, each a seed's mean over the
    datasets."""
    per_seed = {f"d{k}": [k + 0.1 * seed for seed in range(3)] for k in range(4)}
    data = {
        name: {
            "means": {f"{METRIC}_mean": sum(values) / 3},
            "final_info_dict": {METRIC: values},
        }
        for name, values in per_seed.items()
    }
    info = AIScientistFormat(aggregate="mean").final_info(data, 0.0)
    summary = info.metrics[f"{METRIC}_mean"]
    assert info.seeds == [0, 1, 2]
    assert summary.values == pytest.approx([1.5, 1.6, 1.7])  # (0 + 1 + 2 + 3) / 4 + 0.1 * seed
    assert len(summary.values) == len(info.seeds) != len(per_seed)


def test_a_smoke_time_limit_passes_a_run_still_going(tmp_path, run_cache):
    slow = tmp_path / "slow"
    shutil.copytree(V1, slow)
    script = slow / "experiment.py"
    script.write_text(script.read_text().replace("import os\n", "import os\nimport time\n")
                      .replace("if __name__", "time.sleep(60)\nif __name__"))  # fmt: skip
    pack = import_template(
        ImportRequest(source=slow, metric=METRIC, dataset="sine", into=tmp_path / "packs",
                      smoke_timeout_s=2)
    ).root  # fmt: skip
    checked = scientist("templates", "check", pack, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "still going without an error at its 2 s limit" in checked.stdout


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "choose one of --dataset NAME or --aggregate mean"),
        ({"dataset": "sine", "aggregate": "mean"}, "choose one of --dataset"),
        ({"dataset": "cosine"}, "no dataset 'cosine'"),
        ({"dataset": "sine", "metric": "accuracy"}, "has no metric 'accuracy'"),
        ({"dataset": "sine", "source": V1 / "latex"}, "is not an AI Scientist template"),
    ],
)
def test_import_mistakes_are_named(tmp_path, fields, message):
    with pytest.raises(TemplateError, match=message):
        imported(tmp_path, **fields)
    assert not (tmp_path / "polyfit").exists()


@pytest.mark.parametrize("offline", ["none", "None", " NONE ", ""])
def test_offline_a_pack_without_knobs_says_code_ideas_need_a_model(tmp_path, offline):
    pack = imported(tmp_path, dataset="sine")
    result = scientist("run", "--template", pack, "--llm", offline, "--campaign", "c", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "error: pack 'polyfit' has no knobs: its ideas are code changes, which need a model "
        "(--llm MODEL)"
    )
    assert not (tmp_path / "c").exists()


REVIEW = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))


@pytest.mark.latex
def test_a_scripted_campaign_runs_the_imported_pack_end_to_end(tmp_path, run_cache):
    """Baseline, the seed idea as a code change by the code model, the paper (with the v1
    plot's figures), and an LLM review ensemble, all through scripted models."""
    pack = imported(tmp_path / "packs", dataset="tanh", smoke_args=["--num_seeds=2"])
    script = [
        {"match": "Idea: Higher Degree", "text": BLOCK.format(old="DEGREE = 2", new="DEGREE = 5")},
        *[{"match": "(?s)Review the paper", "json": {**REVIEW, "overall": 7}}] * 2,
        {"match": "(?s)area chair", "json": {"summary": "s", "strengths": [], "weaknesses": []}},
    ]
    (tmp_path / "script.json").write_text(json.dumps(script))
    config = CampaignConfig(
        template=str(pack),
        smoke=True,
        max_ideas=1,
        max_runs_per_idea=1,
        campaign_dir=tmp_path / "c",
        models={
            "default": f"scripted:{tmp_path / 'script.json'}",
            "ideas": "none",  # generation 0 is then the seed ideas
            "write": "none",
        },
        review={"ensemble": 2, "reflections": 0},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)
    baseline = json.loads((campaign.baseline_dir / "outputs" / "final_info.json").read_text())
    assert len(baseline["tanh"]["final_info_dict"]["final_val_loss"]) == 2  # the smoke setting

    (entry,) = campaign.archive()
    assert entry.id == "0_0_higher_degree" and entry.status == "done"
    assert "+DEGREE = 5" in (campaign.run_dir(entry.id, 1) / "code.diff").read_text()
    assert entry.improvement is not None and entry.improvement > 0  # a cubic-or-more fits tanh
    figures = sorted(p.name for p in (campaign.idea_dir(entry.id) / "figures").iterdir())
    assert figures == ["val_loss_sine.png", "val_loss_tanh.png"]
    assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()
    reviews = sorted(p.name for p in campaign.reviews_dir(entry.id).iterdir())
    assert reviews == ["meta.json", "review_0.json", "review_1.json"]
    assert entry.review_score == 7
    assert [c.role for c in campaign.ledger()] == ["code", "review", "review", "review"]


@pytest.mark.latex
def test_offline_the_baseline_and_its_paper_run_when_asked(tmp_path, run_cache, capsys):
    pack = imported(tmp_path / "packs", dataset="sine", smoke_args=["--num_seeds=1"])
    config = CampaignConfig(
        template=str(pack), smoke=True, baseline_paper=True, max_ideas=3,
        campaign_dir=tmp_path / "c", literature="off",
    )  # fmt: skip
    campaign = start_campaign(config, quiet=True)
    assert capsys.readouterr().out.splitlines()[0] == (
        "pack 'polyfit' has no knobs: offline, only the baseline paper is written; 3 ideas "
        "need a model (--llm MODEL)"
    )
    assert campaign.config.max_ideas == 1
    (entry,) = campaign.archive()
    assert entry.id == "0_0_baseline" and entry.idea.overrides == {}
    assert entry.status == "done" and entry.improvement == 0
    assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()
    assert entry.review_score is not None and campaign.ledger() == []


@pytest.mark.parametrize(
    ("linked", "refusal"),
    [("notes.txt", LinkRefused), ("prompt.json", TemplateError)],
    ids=["any file", "prompt.json"],
)
def test_a_template_with_a_link_out_of_it_is_refused_and_nothing_is_created(
    tmp_path, linked, refusal
):
    source = tmp_path / "third_party"
    shutil.copytree(V1, source)
    secret = tmp_path / "host_secret.json"
    secret.write_text('{"task_description": "root-only-4c1d"}\n')
    secret.chmod(0o600)
    (source / linked).unlink(missing_ok=True)
    (source / linked).symlink_to(secret)
    request = ImportRequest(
        source=source, metric=METRIC, goal="minimize", dataset="sine", into=tmp_path / "packs"
    )
    with pytest.raises(refusal, match=re.escape(linked)) as refused:
        import_template(request)
    assert "root-only-4c1d" not in str(refused.value)
    assert not (tmp_path / "packs" / "third_party").exists()


def test_smoke_on_a_pack_without_smaller_settings_is_refused_before_anything_runs(tmp_path):
    pack = imported(tmp_path / "packs", dataset="sine")  # no --smoke-args
    refused = scientist(
        "run", "--template", pack, "--llm", "none", "--smoke", "--campaign", tmp_path / "c",
        cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "declares no smaller settings" in refused.stderr + refused.stdout
    assert "--smoke-args" in refused.stderr and "--smoke-timeout" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "c").exists()
