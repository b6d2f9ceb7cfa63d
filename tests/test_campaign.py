import json
from pathlib import Path

import pytest

from scientist.atomic_files import append_jsonl, atomic_write_json, read_jsonl
from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.errors import CampaignError
from scientist.models import ArchiveEntry, Effect, Idea, LedgerEntry, Usage


def idea(name: str) -> Idea:
    return Idea(name=name, title=name.title(), hypothesis="h", plan="p")


def test_create_then_open(tmp_path: Path) -> None:
    root = tmp_path / "c1"
    created = Campaign.create(root, CampaignConfig(template="merge", max_ideas=4))
    opened = Campaign.open(root)
    assert opened.config.max_ideas == 4
    assert opened.config.campaign_dir == root.resolve()
    assert created.run_dir("a", 2) == root / "ideas" / "a" / "runs" / "run_2"
    with pytest.raises(CampaignError, match="already holds a campaign"):
        Campaign.create(root, CampaignConfig(template="merge"))


def test_open_missing_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="not a campaign directory"):
        Campaign.open(tmp_path)


def test_create_where_no_directory_can_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(CampaignError, match="cannot create campaign directory"):
        Campaign.create(tmp_path / "file" / "c", CampaignConfig(template="merge"))


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "x.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, idea("first"))
    assert json.loads(target.read_text())["name"] == "first"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_read_jsonl_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    append_jsonl(path, {"n": 1})
    with path.open("a") as handle:
        handle.write('{"n": 2, "trunc')
    assert list(read_jsonl(path)) == [{"n": 1}]


def test_append_after_a_torn_line_keeps_the_new_record(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    append_jsonl(path, {"n": 1})
    with path.open("a") as handle:
        handle.write('{"n": 2, "trunc')
    append_jsonl(path, {"n": 3})
    assert list(read_jsonl(path)) == [{"n": 1}, {"n": 3}]


def test_archive_keeps_the_latest_state_per_idea(tmp_path: Path) -> None:
    campaign = Campaign.create(tmp_path / "c", CampaignConfig(template="merge"))
    campaign.record_idea(ArchiveEntry(id="0_a", idea=idea("a")))
    campaign.record_idea(ArchiveEntry(id="0_b", idea=idea("b")))
    campaign.record_idea(ArchiveEntry(id="0_a", idea=idea("a"), status="done", metric=0.5))
    archive = {entry.id: entry for entry in campaign.archive()}
    assert set(archive) == {"0_a", "0_b"}
    assert archive["0_a"].status == "done"
    assert archive["0_a"].metric == 0.5


def test_a_row_of_the_wrong_shape_is_a_campaign_error(tmp_path: Path) -> None:
    campaign = Campaign.create(tmp_path / "c", CampaignConfig(template="merge"))
    for path, read in (
        (campaign.archive_path, campaign.archive),
        (campaign.ledger_path, campaign.ledger),
    ):
        path.write_text('{"foo": 1}\n')
        with pytest.raises(CampaignError, match=path.name):
            read()


def test_ledger_sums_cost(tmp_path: Path) -> None:
    campaign = Campaign.create(tmp_path / "c", CampaignConfig(template="merge"))
    for cost in (0.25, 0.5):
        usage = Usage(input_tokens=10, output_tokens=5, cost_usd=cost)
        campaign.record_call(
            LedgerEntry(call_id="x", role="ideas", model="m", usage=usage, latency_s=0.1)
        )
    assert campaign.spent_usd() == pytest.approx(0.75)
    assert len(campaign.ledger()) == 2


def test_fitness_is_the_lower_bound_of_the_gain_not_the_review() -> None:
    """A well-reviewed idea with a wide interval ranks below a plainly better-measured one;
    an idea without an interval ranks last; a rejected or no-effect idea is never a parent."""

    def gain(mean: float, low: float | None, high: float | None) -> Effect:
        test = "paired" if low is not None else "none"
        return Effect(
            vs="baseline/run_0", metric="m", mean=mean, low=low, high=high, n=[3, 3], test=test
        )

    praised = ArchiveEntry(id="p", idea=idea("p"), status="done", review_score=9.0,
                           gain=gain(0.5, -0.2, 1.2))  # fmt: skip
    measured = ArchiveEntry(id="m", idea=idea("m"), status="done", review_score=4.0,
                            gain=gain(0.3, 0.2, 0.4))  # fmt: skip
    single = ArchiveEntry(id="s", idea=idea("s"), status="done", gain=gain(0.9, None, None))
    ranked = sorted([praised, single, measured], key=lambda e: e.fitness, reverse=True)
    assert [e.id for e in ranked] == ["m", "p", "s"]
    assert measured.may_parent and not measured.model_copy(update={"decision": "reject"}).may_parent
    assert not measured.model_copy(update={"status": "no_effect"}).may_parent


def test_idea_names_are_normalised() -> None:
    assert idea("Wider Population!").name == "wider_population"
    with pytest.raises(ValueError):
        idea("!!!")


def test_a_campaign_runs_in_one_process_at_a_time(tmp_path: Path) -> None:
    campaign = Campaign.create(tmp_path / "c", CampaignConfig(template="merge"))
    assert not campaign.is_running()
    with campaign.running():
        assert Campaign.open(campaign.root).is_running()
        again = Campaign.open(campaign.root)
        with pytest.raises(CampaignError, match="is being run by another process"), again.running():
            pass
    assert not campaign.is_running()
