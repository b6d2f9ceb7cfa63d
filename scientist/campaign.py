"""The campaign directory: paths, the ledger and the archive."""

from __future__ import annotations

import fcntl
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from scientist.archive import Archive
from scientist.atomic_files import (
    PARTIAL_SUFFIX,
    append_jsonl,
    atomic_write_text,
    jsonl_record,
    read_jsonl,
)
from scientist.config import CampaignConfig, dump_config, load_config
from scientist.errors import CampaignError
from scientist.models import ArchiveEntry, LedgerEntry, SearchNodeRecord

RUN_LOCK = "run.lock"
Record = TypeVar("Record", bound=BaseModel)
Value = TypeVar("Value")


def read_records(kind: type[Record], path: Path) -> list[Record]:
    """Every row of JSONL file `path` as `kind`; a row that is not one is a CampaignError
    naming the file."""
    return [jsonl_record(kind, row, path) for row in read_jsonl(path)]


def read_json(adapter: TypeAdapter[Value], path: Path, hint: str) -> Value:
    """JSON file `path` validated by `adapter`; one that is unreadable, not UTF-8, not JSON
    or of the wrong shape is a CampaignError naming the file, with `hint`."""
    try:
        return adapter.validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc.errors()[0]["msg"]
        raise CampaignError(f"{path} cannot be read: {reason}", hint=hint) from None


def map_paths(value: Value, convert: Callable[[Path], Path]) -> Value:
    """`value` with every `Path` in it (records, dicts, lists, tuples) replaced by
    `convert(path)`; what holds no path is returned as it is."""
    if isinstance(value, Path):
        return convert(value)  # type: ignore[return-value]
    if isinstance(value, BaseModel):
        changed = {}
        for name in type(value).model_fields:
            field = getattr(value, name)
            mapped = map_paths(field, convert)
            if mapped is not field:
                changed[name] = mapped
        return value.model_copy(update=changed) if changed else value
    if isinstance(value, dict):
        items = {key: map_paths(item, convert) for key, item in value.items()}
        same = all(items[key] is item for key, item in value.items())
        return value if same else type(value)(items)  # type: ignore[return-value]
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        items = [map_paths(item, convert) for item in value]
        same = all(new is old for new, old in zip(items, value, strict=True))
        return value if same else type(value)(items)  # type: ignore[return-value]
    return value


class Campaign:
    """A campaign directory (see docs/architecture.md, "The campaign directory").

    Every path a campaign stores (checkpoints, `paper.json`) is relative to its directory
    (`portable`) and made absolute again when read (`localized`), so a campaign works from
    any working directory and can be moved or copied.
    """

    CONFIG = "campaign.toml"

    def __init__(self, root: Path, config: CampaignConfig) -> None:
        self.root = root
        self.config = config

    def portable(self, value: Value) -> Value:
        """`value` with its paths inside the campaign made relative to the campaign."""
        root = self.root.resolve()

        def relative(path: Path) -> Path:
            absolute = path if path.is_absolute() else Path.cwd() / path
            return absolute.relative_to(root) if absolute.is_relative_to(root) else path

        return map_paths(value, relative)

    def localized(self, value: Value) -> Value:
        """`value` with its relative paths (as `portable` stores them) under the campaign."""
        root = self.root.resolve()
        return map_paths(value, lambda path: path if path.is_absolute() else root / path)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def create(cls, root: Path, config: CampaignConfig) -> Campaign:
        root = Path(root).resolve()
        if (root / cls.CONFIG).exists():
            raise CampaignError(
                f"{root} already holds a campaign", hint=f"resume it: scientist resume {root}"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CampaignError(
                f"cannot create campaign directory {root}: {exc.strerror or exc}"
            ) from None
        # the name is the checkpoint thread: fixed now, so a moved folder keeps its state
        config = config.model_copy(update={"campaign_dir": root, "name": config.name or root.name})
        atomic_write_text(root / cls.CONFIG, dump_config(config))
        return cls(root, config)

    @classmethod
    def open(cls, root: Path) -> Campaign:
        root = Path(root).resolve()
        if not (root / cls.CONFIG).is_file():
            raise CampaignError(
                f"{root} is not a campaign directory (no {cls.CONFIG})",
                hint="start one with: scientist run --template NAME",
            )
        config = load_config(root / cls.CONFIG)
        return cls(root, config.model_copy(update={"campaign_dir": root}))

    def update_config(self, **changes: Any) -> None:
        """Change top-level settings (e.g. `budget_usd`) in memory and in campaign.toml."""
        self.config = self.config.model_copy(update=changes)
        stored = self.config.model_copy(update={"campaign_dir": None})
        atomic_write_text(self.root / self.CONFIG, dump_config(stored))

    @property
    def name(self) -> str:
        return self.config.name or self.root.name

    # ------------------------------------------------------------------ paths
    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints.sqlite"

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.jsonl"

    @property
    def journal_path(self) -> Path:
        """Every paid request, before it is sent and when it returns (`llm/journal.py`)."""
        return self.root / "journal.jsonl"

    @property
    def archive_path(self) -> Path:
        return self.root / "archive.jsonl"

    @property
    def pool_path(self) -> Path:
        """The model pool's win counts and costs (`scientist.llm.pool`)."""
        return self.root / "pool.json"

    @property
    def report_path(self) -> Path:
        return self.root / "report.md"

    @property
    def log_path(self) -> Path:
        """The campaign log: the traceback of every job that failed on an unexpected error."""
        return self.root / "campaign.log"

    def log_failure(self, what: str, exc: BaseException) -> None:
        """Append `exc`'s traceback, headed by the time and `what` failed, to the log."""
        trace = "".join(traceback.format_exception(exc))
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with self.log_path.open("a", encoding="utf-8", errors="replace") as log:
            log.write(f"{stamp} {what} failed\n{trace}\n")

    @property
    def stop_file(self) -> Path:
        return self.root / "STOP"

    @contextmanager
    def running(self) -> Iterator[None]:
        """Hold the campaign's run lock (`run.lock`, an advisory lock the system drops with
        the process, a kill included) while a command drives it; a second command driving
        the same campaign is refused."""
        with (self.root / RUN_LOCK).open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CampaignError(
                    f"{self.name} is being run by another process",
                    hint=f"wait for it to end, or stop it: touch {self.stop_file}",
                ) from None
            yield

    def is_running(self) -> bool:
        """Whether a live process holds the run lock (a killed one holds none)."""
        try:
            handle = (self.root / RUN_LOCK).open("r")
        except FileNotFoundError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    def remove_partial_writes(self) -> list[Path]:
        """Delete what atomic writes cut short by a kill left behind (never valid data)."""
        partial = [p for p in self.root.rglob(f".*{PARTIAL_SUFFIX}") if p.is_file()]
        for path in partial:
            path.unlink(missing_ok=True)
        return partial

    @property
    def baseline_dir(self) -> Path:
        """run_0: the pack's baseline, run once per campaign."""
        return self.root / "baseline" / "run_0"

    def idea_dir(self, idea_id: str) -> Path:
        return self.root / "ideas" / idea_id

    def control_dir(self, key: str) -> Path:
        """A control: the unchanged pack run with one configuration (`key`), shared by every
        idea measured against it."""
        return self.root / "controls" / key

    def run_dir(self, idea_id: str, index: int) -> Path:
        return self.idea_dir(idea_id) / "runs" / f"run_{index}"

    def paper_dir(self, idea_id: str) -> Path:
        return self.idea_dir(idea_id) / "paper"

    def reviews_dir(self, idea_id: str) -> Path:
        return self.idea_dir(idea_id) / "reviews"

    def search_dir(self, idea_id: str) -> Path:
        """The code tree search's node folders and `tree.jsonl`."""
        return self.idea_dir(idea_id) / "search"

    # ------------------------------------------------------------------ ledger
    def record_call(self, entry: LedgerEntry) -> None:
        append_jsonl(self.ledger_path, entry)

    def ledger(self) -> list[LedgerEntry]:
        return read_records(LedgerEntry, self.ledger_path)

    def spent_usd(self) -> float:
        return sum(entry.usage.cost_usd for entry in self.ledger())

    # ------------------------------------------------------------------ tree search
    def record_search_node(self, idea_id: str, node: SearchNodeRecord) -> None:
        append_jsonl(self.search_dir(idea_id) / "tree.jsonl", node)

    def search_tree(self, idea_id: str) -> list[SearchNodeRecord]:
        """The idea's search nodes in the order they were expanded (empty without a search)."""
        path = self.search_dir(idea_id) / "tree.jsonl"
        return read_records(SearchNodeRecord, path)

    # ------------------------------------------------------------------ archive
    @cached_property
    def idea_archive(self) -> Archive:
        """The archive of idea records (`scientist.archive`)."""
        return Archive(self.archive_path)

    def record_idea(self, entry: ArchiveEntry) -> None:
        """Append the idea's latest state; the last line for an id wins."""
        self.idea_archive.record(entry)

    def archive(self) -> list[ArchiveEntry]:
        return list(self.idea_archive.ideas().values())
