"""The archive: every idea's record, one JSON line per change; the last line for an id wins.

`archive.jsonl` is the only store of idea records. The scheduler, selection, breeding and the
report read it through `Archive`; the checkpoint keeps only what is in flight. The file is
append-only, so a reader keeps what it has read and parses only the lines appended since
(`Archive.ideas` costs what is new, not the whole archive), and the archive's length at one
moment names what it held then (`Archive.upto`), which is how a resumed ideation sees the
archive it was asked with.
"""

from __future__ import annotations

import threading
from pathlib import Path

from scientist.atomic_files import append_jsonl, json_line, jsonl_record
from scientist.models import ArchiveEntry


class Archive:
    """`archive.jsonl`, read incrementally; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._offset = 0
        self._lines = 0
        self._records = 0
        self._latest: dict[str, ArchiveEntry] = {}

    def record(self, entry: ArchiveEntry) -> None:
        """Append the idea's latest state."""
        append_jsonl(self.path, entry)

    def ideas(self) -> dict[str, ArchiveEntry]:
        """Every idea's latest record by id, in the order the ideas first appeared."""
        with self._lock:
            self._read_appended()
            return dict(self._latest)

    def length(self) -> int:
        """How many records the archive holds now (every line of every idea)."""
        with self._lock:
            self._read_appended()
            return self._records

    def snapshot(self) -> tuple[int, list[ArchiveEntry]]:
        """The archive's length and its ideas, at one moment."""
        with self._lock:
            self._read_appended()
            return self._records, list(self._latest.values())

    def upto(self, records: int | None) -> list[ArchiveEntry]:
        """The ideas as they were when the archive held its first `records` records (None:
        all of them)."""
        latest: dict[str, ArchiveEntry] = {}
        data = self.path.read_bytes() if self.path.exists() else b""
        for count, entry in enumerate(self._entries(data, 0), start=1):
            if records is not None and count > records:
                break
            latest[entry.id] = entry
        return list(latest.values())

    def _read_appended(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self._reset()
            return
        if size < self._offset:  # replaced by a shorter file: read it afresh
            self._reset()
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read(size - self._offset)
        whole = data[: data.rfind(b"\n") + 1]  # a line still being written waits
        for entry in self._entries(whole, self._lines):
            self._latest[entry.id] = entry
            self._records += 1
        self._lines += whole.count(b"\n")
        self._offset += len(whole)

    def _entries(self, data: bytes, first_line: int) -> list[ArchiveEntry]:
        """The records among the complete lines of `data` (its first line is line
        `first_line + 1` of the file)."""
        entries = []
        for number, raw in enumerate(data.splitlines(keepends=True), start=first_line + 1):
            row = json_line(raw, self.path, number)
            if row is not None:
                entries.append(jsonl_record(ArchiveEntry, row, self.path))
        return entries
