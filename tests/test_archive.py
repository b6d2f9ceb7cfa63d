"""The archive: read once, then only what was appended; a line still being written waits;
its length at one moment names what it held then."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.archive import Archive
from scientist.errors import CampaignError
from scientist.models import ArchiveEntry, Idea


def _entry(name: str, status: str = "proposed") -> ArchiveEntry:
    idea = Idea(name=name, title=name, hypothesis="h", plan="p", overrides={"x": 1})
    return ArchiveEntry(id=f"0_0_{name}", idea=idea, status=status)


def test_a_reader_sees_appended_records_and_the_last_line_of_an_id_wins(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    writer, reader = Archive(path), Archive(path)
    assert reader.ideas() == {} and reader.length() == 0
    writer.record(_entry("a"))
    writer.record(_entry("b"))
    assert list(reader.ideas()) == ["0_0_a", "0_0_b"]
    writer.record(_entry("a", "done"))
    assert reader.ideas()["0_0_a"].status == "done" and reader.length() == 3
    assert list(reader.ideas()) == ["0_0_a", "0_0_b"]  # in the order ideas first appeared


def test_a_line_being_written_waits_and_a_torn_one_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    archive = Archive(path)
    line = _entry("a").model_dump_json()
    path.write_text(line[:20])  # half written
    assert archive.ideas() == {}
    Archive(path).record(_entry("b"))  # the torn half ends as a line of its own
    assert list(archive.ideas()) == ["0_0_b"] and archive.length() == 1


def test_the_length_at_one_moment_names_what_the_archive_held(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.jsonl")
    archive.record(_entry("a"))
    length, seen = archive.snapshot()
    archive.record(_entry("a", "done"))
    archive.record(_entry("b"))
    assert length == 1 and [e.status for e in seen] == ["proposed"]
    assert archive.upto(length) == seen
    assert [e.id for e in archive.upto(3)] == ["0_0_a", "0_0_b"]


def test_a_file_replaced_by_a_shorter_one_is_read_afresh(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    archive = Archive(path)
    for name in "abc":
        archive.record(_entry(name))
    assert archive.length() == 3
    path.write_text(_entry("z").model_dump_json() + "\n")
    assert list(archive.ideas()) == ["0_0_z"] and archive.length() == 1


def test_a_row_that_is_no_record_is_one_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    path.write_text('{"id": "x"}\n')
    with pytest.raises(CampaignError, match=r"archive\.jsonl holds a row that is not a valid"):
        Archive(path).ideas()
