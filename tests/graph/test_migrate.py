"""A campaign killed while the batch scheduler of earlier versions ran it resumes under the
continuous scheduler, with nothing finished done again.

`tests/fixtures/batch_campaign.tar.gz` is such a campaign on the toy pack (3 ideas, writing
and reviewing on), killed after its first idea's run finished and before its paper: the
checkpoint holds that idea in a `batch` fanned out with `Send`, and no `flights`."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from scientist.graph.runner import resume_campaign

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "batch_campaign.tar.gz"


def _unpack(tmp_path: Path, toy_pack: Path) -> Path:
    with tarfile.open(FIXTURE) as archive:
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


def _resume_again(root: Path, capsys) -> str:
    resume_campaign(root, quiet=True)
    return capsys.readouterr().out
