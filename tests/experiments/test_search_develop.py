"""AB-MCTS idea development on the toy pack: real campaign folders, sandbox runs, archive."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, ModelsConfig, load_config
from scientist.context import Context, open_context
from scientist.errors import ConfigError, LLMFormatError
from scientist.experiments.search_develop import CodeEdit, ModelEdit, develop_by_search
from scientist.graph.nodes import baseline
from scientist.llm import open_llm
from scientist.models import ArchiveEntry, ExperimentRun, Idea
from scientist.sandbox import open_sandbox

BONUS = re.compile(r"^BONUS = (.+)$", re.MULTILINE)


class PoolLog:
    """What the search uses of the code role's model: its `models` (the arms) and `reward`."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        self.rewards: dict[str, bool] = {}

    def reward(self, call_id: str, success: bool) -> None:
        self.rewards[call_id] = success


def bonus_editor(seed: int) -> CodeEdit:
    """Edits the toy pack's `BONUS` line like two code models would: `careful` repairs a
    broken file and adds 0.05 (0.02 when it implements the idea afresh); `sloppy` breaks the
    file 60 % of the time, else fails to answer usefully or gives an edit that applies nowhere."""
    rng = random.Random(seed)
    calls = iter(range(10_000))

    def edit(code_dir: Path, parent_run: ExperimentRun | None, model: str) -> ModelEdit:
        path = code_dir / "experiment.py"
        source = path.read_text()
        call_id = f"{model}-{next(calls)}"
        if model == "careful":
            bonus = float(BONUS.search(source).group(1)) + (0.02 if parent_run is None else 0.05)
            source = source.replace("def main(:", "def main()")
            path.write_text(BONUS.sub(f"BONUS = {bonus:.2f}", source))
            return ModelEdit(True, (call_id,))
        draw = rng.random()
        if draw < 0.6:
            path.write_text(source.replace("def main()", "def main(:"))
            return ModelEdit(True, (call_id,))
        if draw < 0.8:
            raise LLMFormatError("no SEARCH/REPLACE block", raw_text="sure!")
        return ModelEdit(False, (call_id,))

    return edit


@pytest.fixture
def context(tmp_path: Path, toy_pack: Path, run_cache: Path) -> Context:
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0],
        search="abmcts",
        search_budget=8,
        models={"code": ["careful", "sloppy"]},
    )
    campaign = Campaign.create(tmp_path / "campaign", config)
    sandbox = open_sandbox(config.sandbox, campaign=campaign.name)
    return open_context(campaign, sandbox=sandbox, llm=open_llm(ModelsConfig()))


@pytest.fixture
def pool() -> PoolLog:
    return PoolLog(["careful", "sloppy"])


def toy_entry() -> ArchiveEntry:
    idea = Idea(name="bonus", title="A bonus", hypothesis="A bonus helps.", plan="Add one.")
    return ArchiveEntry(id="1_bonus", idea=idea, status="selected")


@pytest.mark.slow
def test_search_develops_the_idea_from_its_best_node(context: Context, pool: PoolLog) -> None:
    base = baseline(context, {})["baseline"]
    outcome = develop_by_search(context, pool, toy_entry(), base, [], bonus_editor(seed=1))

    runs = outcome.runs
    assert [run.index for run in runs] == sorted(run.index for run in runs)
    assert 1 <= len(runs) <= 8 and len({run.run_dir for run in runs}) == len(runs)
    ok_runs = [run for run in runs if run.result.ok]
    assert ok_runs and any(not run.result.ok for run in runs)
    best = max(ok_runs, key=lambda run: run.metric("score"))
    entry = outcome.entry
    assert entry.status == "done" and entry.runs == len(runs)
    assert entry.metric == best.metric("score") > base.metric("score")
    assert entry.improvement == pytest.approx(best.metric("score") - base.metric("score"))
    # The winning code is on disk in its node folder and recorded as the run's diff.
    assert "+BONUS = " in (best.run_dir / "code.diff").read_text()
    node = context.campaign.idea_dir("1_bonus") / "search" / f"node_{best.index}"
    assert BONUS.search((node / "experiment.py").read_text()).group(1) != "0.0"
    # The tree is on disk: one node per expansion, parents expanded before their children.
    tree = context.campaign.search_tree("1_bonus")
    assert len(tree) == 8 and {node.model for node in tree} <= {"careful", "sloppy"}
    seen = {node.node for node in tree}
    assert all(node.parent is None or node.parent in seen for node in tree)
    assert max(tree, key=lambda node: node.score).node == best.index
    # Every model call was rewarded by its outcome; the careful model won, the sloppy lost.
    rewards = pool.rewards
    assert rewards and all(success for call, success in rewards.items() if call.startswith("c"))
    assert not any(success for call, success in rewards.items() if call.startswith("s"))


@pytest.mark.slow
def test_a_second_search_numbers_its_runs_after_the_first(context: Context, pool: PoolLog) -> None:
    base = baseline(context, {})["baseline"]
    context.campaign.config.search_budget = 2
    first = develop_by_search(context, pool, toy_entry(), base, [], bonus_editor(seed=2))
    second = develop_by_search(context, pool, toy_entry(), base, [], bonus_editor(seed=2))
    assert min(run.index for run in second.runs) > max(run.index for run in first.runs)
    for run in first.runs:
        assert (run.run_dir / "result.json").is_file()


def test_the_search_without_a_code_model_is_refused_at_load(toy_pack: Path) -> None:
    with pytest.raises(ConfigError, match="search = 'abmcts' needs a model in the 'code' role"):
        load_config(overrides={"template": str(toy_pack), "search": "abmcts"})
    with pytest.raises(ConfigError, match="abmcts"):
        load_config(
            overrides={"template": str(toy_pack), "search": "abmcts", "models.default": "x:y"}
            | {"models.code": "none"}
        )
