"""The code agent against the replay server (the real openai client), with the answers
capable models give, mistakes included: truncation, "Done!" before its blocks, CRLF, no-op
answers to code ideas, invented knobs, mismatches in a module that is not the entrypoint."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, ModelsConfig
from scientist.context import open_context
from scientist.experiments.agent import CodeSession, prepare_version
from scientist.experiments.develop import develop_idea
from scientist.experiments.outcome import Outcome
from scientist.experiments.pack_view import PackView
from scientist.experiments.runs import execute_run
from scientist.experiments.search_develop import develop_by_search
from scientist.graph.nodes import baseline
from scientist.llm import RoleModel, open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.models import ArchiveEntry, ExperimentRun, Idea
from scientist.records.runs import run_diff
from scientist.sandbox import open_sandbox
from scientist.templates import load_template

IDEA = Idea(name="bonus", title="A bonus", hypothesis="It helps.", plan="Add a bonus.")
HELPERS = '"""Helpers of the toy pack."""\n\n\ndef shift(value):\n    return value\n'


def block(path: str, search: str, replace: str, newline: str = "\n") -> str:
    text = f"{path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"
    return text.replace("\n", newline)


@pytest.fixture
def pack(tmp_path: Path, toy_pack: Path) -> Path:
    """The toy pack plus a module that is not its entrypoint."""
    root = tmp_path / "pack"
    shutil.copytree(toy_pack, root)
    (root / "toylib").mkdir()
    (root / "toylib" / "helpers.py").write_text(HELPERS)
    return root


@pytest.fixture
def view(pack: Path, tmp_path: Path) -> PackView:
    template = load_template(str(pack))
    code = tmp_path / "code"
    shutil.copytree(pack, code)
    return PackView(template, code)


@pytest.fixture
def code_model(replay_server: ReplayServer) -> Iterator[RoleModel]:
    config = ModelsConfig(code="openai:gpt-4o", base_url=f"{replay_server.url}/v1")
    with open_llm(config) as llm:
        yield llm.for_role("code")  # type: ignore[misc]


def user_messages(server: ReplayServer) -> list[str]:
    return [request["body"]["messages"][-1]["content"] for request in server.requests]


def test_a_truncated_answer_is_never_applied_in_part(replay_server, code_model, view):
    first = block("experiment.py", "BONUS = 0.0", "BONUS = 0.5")
    second = block("toylib/helpers.py", "    return value", "    return value + 1")
    replay_server.load(
        [
            {"text": first + "\n" + second[:40], "truncated": True},
            {"match": "cut off", "text": first + second},
        ]
    )
    answer = CodeSession(code_model, view, IDEA).ask("Implement it.")
    assert answer.kind == "edited" and len(answer.call_ids) == 2
    assert "BONUS = 0.5\n" in view.text("experiment.py")  # applied once, from the whole answer
    assert "return value + 1" in view.text("toylib/helpers.py")


def test_done_followed_by_blocks_is_an_edit_and_crlf_answers_apply(replay_server, code_model, view):
    crlf = block("toylib/helpers.py", "    return value", "    return -value", "\r\n")
    replay_server.load([{"text": "Done! Here is the change:\r\n\r\n```python\r\n" + crlf + "```"}])
    assert CodeSession(code_model, view, IDEA).ask("Implement it.").kind == "edited"
    assert view.text("toylib/helpers.py").endswith("    return -value\n")


def test_a_unified_diff_after_a_rate_limit_applies(replay_server, code_model, view):
    diff = (
        "```diff\n--- a/toylib/helpers.py\n+++ b/toylib/helpers.py\n@@ -4,2 +4,2 @@\n"
        " def shift(value):\n-    return value\n+    return value * 2\n```\n"
    )
    replay_server.load([{"status": 429, "headers": {"retry-after": "0"}}, {"text": diff}])
    assert CodeSession(code_model, view, IDEA).ask("Implement it.").kind == "edited"
    assert view.text("toylib/helpers.py").endswith("    return value * 2\n")
    assert view.changed() == ["toylib/helpers.py"]


def test_a_mismatch_in_a_module_shows_that_module(replay_server, code_model, view):
    replay_server.load(
        [
            {"text": block("toylib/helpers.py", "return value  # old", "return 0")},
            {
                "match": "could not be applied",
                "text": block("toylib/helpers.py", "return value", "return 0"),
            },
        ]
    )
    assert CodeSession(code_model, view, IDEA).ask("Implement it.").kind == "edited"
    mismatch = user_messages(replay_server)[1]
    assert "toylib/helpers.py\n```python\n" + HELPERS in mismatch
    assert "def main()" not in mismatch  # not the entrypoint


def test_an_outlined_file_is_read_on_request(replay_server, code_model, view):
    replay_server.load(
        [
            {"text": "READ toylib/helpers.py"},
            {"match": "files you asked for", "text": "NO CHANGE"},
        ]
    )
    assert CodeSession(code_model, view, IDEA).ask("Implement it.").kind == "unchanged"
    assert HELPERS in user_messages(replay_server)[1]


def test_prose_without_edits_is_asked_again_not_run(replay_server, code_model, view):
    replay_server.load(
        [{"text": "I would raise the bonus."}, {"match": "no edit blocks", "text": "DONE"}]
    )
    assert CodeSession(code_model, view, IDEA).ask("Implement it.").kind == "done"


def test_a_no_op_answer_to_a_code_idea_is_not_a_version(replay_server, code_model, view):
    replay_server.load(
        [
            {"text": "The code already does this.\n\nNO CHANGE"},
            {
                "match": "identical to the pack",
                "text": block("experiment.py", "BONUS = 0.0", "BONUS = 0.05"),
            },
        ]
    )
    version = prepare_version(
        CodeSession(code_model, view, IDEA),
        "Implement it.",
        overrides={},
        needs_code=True,
        smoke=None,
        baseline_knobs=None,
        attempts=1,
    )
    assert version.ready and version.kind == "edited" and len(version.call_ids) == 2
    assert view.changed() == ["experiment.py"]


def test_an_invented_knob_is_refused_before_any_run_and_added_by_an_edit(
    replay_server, code_model, view, tmp_path: Path, run_cache
):
    config = CampaignConfig(template=str(view.template.root), seeds=[0])
    sandbox = open_sandbox(config.sandbox)
    smoke_config = config.model_copy(update={"smoke": True})
    overrides = {"momentum": 0.9, "seeds": [0]}

    def smoke(attempt: int) -> ExperimentRun:
        return execute_run(
            sandbox,
            view.template,
            smoke_config,
            idea_id="i",
            index=attempt,
            code_dir=view.code_dir,
            run_dir=tmp_path / f"smoke_{attempt}",
            overrides=overrides,
        )

    defaults = 'DEFAULTS = {"lr": 0.01, "width": 16, "depth": 2, "seeds": [0, 1, 2]}'
    replay_server.load(
        [
            {"text": "NO CHANGE"},
            {
                "match": "knobs the pack does not accept: momentum",
                "text": block("experiment.py", defaults, defaults[:-1] + ', "momentum": 0.0}'),
            },
        ]
    )
    version = prepare_version(
        CodeSession(code_model, view, IDEA),
        "Implement it.",
        overrides=overrides,
        needs_code=True,
        smoke=smoke,
        baseline_knobs={"lr", "width", "depth", "seeds"},
        attempts=2,
    )
    assert version.ready
    assert sorted(p.name for p in tmp_path.glob("smoke_*")) == ["smoke_2"]  # no run before
    info = json.loads((tmp_path / "smoke_2" / "outputs" / "final_info.json").read_text())
    assert info["config"]["momentum"] == 0.9


def develop(
    tmp_path: Path, config: CampaignConfig, idea: Idea, *, search: bool = False
) -> tuple[Campaign, Outcome]:
    """Develop `idea` in a new campaign with `config`, after its baseline run."""
    campaign = Campaign.create(tmp_path / "campaign", config)
    sandbox = open_sandbox(config.sandbox, campaign=campaign.name)
    with open_llm(config.models, campaign=campaign, seed=0) as llm:
        ctx = open_context(campaign, sandbox=sandbox, llm=llm)
        base = baseline(ctx, {})["baseline"]
        entry = ArchiveEntry(id=f"1_{idea.name}", idea=idea, status="selected")
        if search:
            return campaign, develop_by_search(ctx, ctx.model("code"), entry, base, [])
        return campaign, develop_idea(ctx, entry, base, [])


def scripted(tmp_path: Path, entries: list[dict]) -> str:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(entries))
    return f"scripted:{script}"


def test_a_settings_only_idea_runs_unchanged_in_the_tree_search(
    tmp_path: Path, toy_pack: Path, run_cache
):
    model = scripted(tmp_path, [{"text": "The overrides are the change.\n\nNO CHANGE"}] * 2)
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0],
        search="abmcts",
        search_budget=2,
        models={"code": model},
    )
    idea = Idea(name="lr", title="Higher lr", hypothesis="h", plan="p", overrides={"lr": 0.1})
    _, outcome = develop(tmp_path, config, idea, search=True)
    assert outcome.entry.status == "done" and len(outcome.runs) == 2
    assert all(run.result.ok and run.overrides["lr"] == 0.1 for run in outcome.runs)
    assert outcome.entry.improvement > 0


def test_a_smoke_failure_goes_back_with_its_stderr_before_any_full_run(
    tmp_path: Path, toy_pack: Path, run_cache, run_log
):
    broken = block("experiment.py", "BONUS = 0.0", "BONUS = undefined_name")
    fixed = block("experiment.py", "BONUS = undefined_name", "BONUS = 0.05")
    model = scripted(
        tmp_path,
        [
            {"match": "Idea: A bonus", "text": broken},
            {"match": "(?s)smoke run of this version failed.*undefined_name", "text": fixed},
            {"match": "Runs so far", "text": "DONE"},
        ],
    )
    config = CampaignConfig(
        template=str(toy_pack), seeds=[0], max_runs_per_idea=2, models={"code": model}
    )
    idea = Idea(name="bonus", title="A bonus", hypothesis="It helps.", plan="Add 0.05.")
    campaign, outcome = develop(tmp_path, config, idea)
    assert outcome.entry.status == "done" and [run.index for run in outcome.runs] == [1]
    smoke = campaign.idea_dir(outcome.entry.id) / "smoke"
    first = json.loads((smoke / "run_1_1" / "result.json").read_text())["result"]
    assert first["status"] == "error"
    assert (smoke / "run_1_2" / "outputs" / "final_info.json").exists()
    assert [run for _, run in run_log()].count("1_bonus/run_1") == 2  # the full run, once
    assert "+BONUS = 0.05" in run_diff(outcome.runs[0])


def test_offline_an_unknown_knob_fails_the_idea_before_any_run(
    tmp_path: Path, toy_pack: Path, run_cache, run_log
):
    config = CampaignConfig(template=str(toy_pack), smoke=True, seeds=[0])
    idea = Idea(name="m", title="Momentum", hypothesis="h", plan="p", overrides={"momentum": 1})
    _, outcome = develop(tmp_path, config, idea)
    assert outcome.entry.status == "failed" and "no knob momentum" in outcome.entry.error
    assert outcome.runs == [] and [run for _, run in run_log()] == ["baseline/run_0"] * 2
