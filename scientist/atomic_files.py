"""Files that readers see whole: atomic writes, and JSON lines that survive a torn append."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scientist.errors import CampaignError

Record = TypeVar("Record", bound=BaseModel)

PARTIAL_SUFFIX = ".partial-write"


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(data, indent=2, default=str)
    atomic_write_text(path, text + "\n")


def append_jsonl(path: Path, record: BaseModel | dict[str, Any]) -> None:
    """Append one line; a single write of a full line, flushed, so lines never interleave.

    After a torn last line (a crash mid-write) the new line starts on a line of its own, so
    that only the torn fragment is lost, never the record appended after it.
    """
    line = record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        if handle.tell() > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                line = "\n" + line
        handle.write((line + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield each complete JSON line; a torn last line (a crash mid-write) is skipped. A
    complete line that is not UTF-8 is a CampaignError naming the file and the line."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            row = json_line(raw, path, number)
            if row is not None:
                yield row


def json_line(raw: bytes, path: Path, number: int) -> Any | None:
    """Line `number` of JSONL file `path` parsed, or None when it is blank or torn (not
    JSON, or cut mid-character at the end of the file); a complete line that is not UTF-8
    is a CampaignError."""
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        if not raw.endswith(b"\n"):
            return None  # torn mid-character
        raise CampaignError(
            f"{path} line {number} is not UTF-8 text", hint="fix or remove that line"
        ) from None
    if not line:
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def jsonl_record(kind: type[Record], row: Any, path: Path) -> Record:
    """One JSONL row of `path` as `kind`; a row that is not one is a CampaignError naming
    the file."""
    try:
        return kind.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CampaignError(
            f"{path} holds a row that is not a valid {kind.__name__}: "
            f"{first['msg']} at {'.'.join(map(str, first['loc']))}",
            hint="fix or remove that line",
        ) from None
