"""Everything a run writes is untrusted data: bytes that are not UTF-8, a name that is not
UTF-8, a bad captions file or a decompression-bomb PNG fail at most their own idea, and an
unexpected error in one idea's step fails that idea, never the campaign."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.errors import ScientistError
from scientist.graph import scheduler
from scientist.graph.runner import resume_campaign, start_campaign
from scientist.llm.images import Image
from scientist.records.figures import collect_figures, pixel_variance

HOSTILE_WRITES = """
    if config["width"] == 32:  # the "wider" seed idea: a byte that is not UTF-8
        with open(args.out_dir / "final_info.json", "ab") as handle:
            handle.write(b"\\xff")
    if config["lr"] == 0.1:  # "higher_lr": an output whose name is not UTF-8
        (args.out_dir / "notes").mkdir()
        open(bytes(args.out_dir / "notes") + b"/bad\\xffname.txt", "wb").close()
    log_event("done")
"""


def _hostile_pack(toy_pack: Path, tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(toy_pack, pack)
    experiment = pack / "experiment.py"
    source = experiment.read_text()
    source = source.replace('    log_event("done")\n', HOSTILE_WRITES, 1)
    experiment.write_text(source)
    return pack


def _config(pack: Path, root: Path) -> CampaignConfig:
    return CampaignConfig(
        template=str(pack), campaign_dir=root, seeds=[0], max_ideas=2, writeup={"enabled": False}
    )


def test_bytes_and_names_a_run_writes_fail_only_their_idea(toy_pack, tmp_path, run_cache):
    campaign = start_campaign(_config(_hostile_pack(toy_pack, tmp_path), tmp_path / "c"))
    entries = {entry.id.split("_", 2)[-1]: entry for entry in campaign.archive()}
    assert entries["wider"].status == "failed" and "final_info.json" in entries["wider"].error
    assert entries["higher_lr"].status == "done"
    run = next((campaign.root / "ideas").glob("*higher_lr/runs/run_1"))
    result = (run / "result.json").read_text()
    assert "a name that is not UTF-8" in result and not list((run / "outputs" / "notes").iterdir())


def test_an_unexpected_error_fails_its_idea_and_resume_finishes_the_others(
    toy_pack, tmp_path, run_cache, monkeypatch
):
    experiment = scheduler.STEPS["experiment"]

    def broken(ctx, entry, flight, baseline):
        if entry.id.endswith("wider"):
            raise RuntimeError("a bug met by one idea")
        return experiment(ctx, entry, flight, baseline)

    monkeypatch.setitem(scheduler.STEPS, "experiment", broken)
    campaign = start_campaign(_config(toy_pack, tmp_path / "c"))
    entries = {entry.id.split("_", 2)[-1]: entry for entry in campaign.archive()}
    assert entries["wider"].status == "failed"
    assert entries["wider"].error == "experiment: RuntimeError: a bug met by one idea"
    assert entries["higher_lr"].status == "done"
    log = campaign.log_path.read_text()
    assert "Traceback" in log and "RuntimeError: a bug met by one idea" in log
    resumed = resume_campaign(campaign.root, quiet=True)
    assert {e.status for e in Campaign.open(resumed.root).archive()} == {"failed", "done"}


def _bomb_png(path: Path, side: int = 20_000) -> Path:
    """A 1-bit grey PNG of side x side pixels (400 Mpixel at the default) in a few hundred KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    rows = zlib.compressobj(9)
    row = bytes(1 + side // 8)
    data = b"".join(rows.compress(row) for _ in range(side)) + rows.flush()
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def test_a_decompression_bomb_figure_is_refused_before_it_is_decoded(tmp_path):
    bomb = _bomb_png(tmp_path / "score.png")
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ScientistError, match="pixels, more than"):
        pixel_variance(bomb)
    with pytest.raises(ScientistError, match="pixels, more than"):
        Image.from_file(bomb)


@pytest.mark.parametrize(
    "captions", [b"\xff\xfe not json", b'{"score": 3}'], ids=["bytes", "number"]
)
def test_a_bad_captions_file_leaves_the_default_captions(tmp_path, captions):
    (tmp_path / "score.png").write_bytes(b"")
    (tmp_path / "captions.json").write_bytes(captions)
    (figure,) = collect_figures(tmp_path, "toy")
    assert figure.caption.startswith("Score, drawn by the toy pack")
