"""Campaigns killed under earlier versions resume under this one, with nothing finished done
again.

- `tests/fixtures/batch_campaign.tar.gz`: a campaign run by the batch scheduler (3 ideas on
  the toy pack, writing and reviewing on), killed after its first idea's run finished and
  before its paper: the checkpoint holds that idea in a `batch` fanned out with `Send`, and
  no `flights`.
- `tests/fixtures/previous_release_campaign.tar.gz`: the same campaign under the previous
  release, whose checkpoints also held every idea's record (`entries`), killed while its
  three papers were compiling: three flights at their `write` step."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.graph.build import read_state
from scientist.graph.runner import resume_campaign

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _unpack(tmp_path: Path, toy_pack: Path, fixture: str = "batch_campaign.tar.gz") -> Path:
    with tarfile.open(FIXTURES / fixture) as archive:
        archive.extractall(tmp_path, filter="data")
    root = tmp_path / "c"
    config = root / "campaign.toml"
    text = config.read_text().replace("TOY_PACK", str(toy_pack))
    config.write_text(text.replace("CAMPAIGN_DIR", str(root)))
    return root


@pytest.mark.latex
def test_a_batch_checkpoint_resumes_under_the_scheduler(tmp_path, toy_pack, run_log, capsys):
    root = _unpack(tmp_path, toy_pack)
    campaign = resume_campaign(root, quiet=True)

    assert "resuming a batch-scheduled campaign" in capsys.readouterr().out
    entries = campaign.archive()
    assert len(entries) == 3
    assert all(e.status == "done" and e.review_score is not None for e in entries)
    [bred] = [e.id for e in entries if e.idea.generation == 1]
    started = [run for event, run in run_log() if event == "start"]
    ran = [run for run in started if not run.endswith("/run_0")]  # run_0: the confirmation
    assert sorted(ran) == ["0_1_wider/run_1", f"{bred}/run_1"]  # the finished run is reused
    assert len(started) == len(set(started)) == 4  # and the best idea's confirmation, once
    assert all((campaign.paper_dir(e.id) / "paper.pdf").is_file() for e in entries)
    assert "already finished" in _resume_again(root, capsys)


@pytest.mark.latex
def test_a_previous_release_checkpoint_resumes_from_its_flights(tmp_path, toy_pack, run_log):
    root = _unpack(tmp_path, toy_pack, "previous_release_campaign.tar.gz")
    before = {e.id: e for e in Campaign.open(root).archive()}
    assert {e.status for e in before.values()} == {"done"} and len(before) == 3
    campaign = resume_campaign(root, quiet=True)

    entries = campaign.archive()
    assert sorted(e.id for e in entries) == sorted(before)  # no idea proposed again
    assert all(e.review_score is not None for e in entries)
    assert all((campaign.paper_dir(e.id) / "paper.pdf").is_file() for e in entries)
    started = [run for event, run in run_log() if event == "start"]
    assert all(run.endswith("/run_0") for run in started)  # only the best idea's confirmation
    assert len(read_state(campaign)) and "entries" not in read_state(campaign)


def _resume_again(root: Path, capsys) -> str:
    resume_campaign(root, quiet=True)
    return capsys.readouterr().out
