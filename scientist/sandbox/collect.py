"""Copying a finished run's outputs to the host, safely.

Called only after every process of the run is dead, so nothing can change the tree while it
is read. Every step goes through directory file descriptors and never follows a link:
links, FIFOs, sockets, devices and names that are not UTF-8 are left out; a hard link comes
back as a plain copy; a sparse file counts with its full size. The caps on bytes, entries,
depth and time bound the work; whatever passes them is left out with a note, and the other
outputs still come back.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from scientist.safe_tree import CHUNK_BYTES, DIR_FLAGS, FILE_FLAGS, open_folder


@dataclass(frozen=True)
class OutputLimits:
    """What one run may bring back."""

    max_bytes: int = 512 * 1024 * 1024
    max_entries: int = 10_000
    max_depth: int = 16
    max_seconds: float = 120.0


@dataclass
class Collection:
    """What a collection copied and what it left out, and why."""

    limits: OutputLimits
    deadline: float
    copied_bytes: int = 0
    entries: int = 0
    left_out: list[str] = field(default_factory=list)
    stopped: str = ""

    def note(self) -> str:
        reasons = self.left_out[:5]
        if len(self.left_out) > 5:
            reasons.append(f"{len(self.left_out) - 5} more")
        if self.stopped:
            reasons.append(f"everything after that ({self.stopped})")
        return f"outputs left out: {', '.join(reasons)}" if reasons else ""


def collect_outputs(root: Path, subdir: str, target: Path, limits: OutputLimits) -> str:
    """Copy `root/subdir` (no component may be a link) into `target`; '' or a note on what
    was left out. Never raises for what the run left behind."""
    target.mkdir(parents=True, exist_ok=True)
    collection = Collection(limits=limits, deadline=time.monotonic() + limits.max_seconds)
    try:
        source = _open_subdir(root, subdir)
    except OSError:
        return f"no output folder '{subdir}' was written"
    try:
        _copy_tree(source, target, PurePosixPath(), 1, collection)
    finally:
        os.close(source)
    return collection.note()


def _open_subdir(root: Path, subdir: str) -> int:
    """A descriptor of `root/subdir`, opened one component at a time without following links."""
    if not PurePosixPath(subdir).parts or PurePosixPath(subdir).is_absolute():
        raise OSError(f"not a relative folder: {subdir}")
    return open_folder(root, subdir)


def _copy_tree(
    dir_fd: int, target: Path, relative: PurePosixPath, depth: int, collection: Collection
) -> None:
    names = sorted(entry.name for entry in os.scandir(dir_fd))
    for name in names:
        if collection.stopped:
            return
        if time.monotonic() > collection.deadline:
            collection.stopped = f"collection time limit {collection.limits.max_seconds:g} s"
            return
        if collection.entries >= collection.limits.max_entries:
            collection.stopped = f"entry cap {collection.limits.max_entries}"
            return
        collection.entries += 1
        shown = relative / printable(name)
        if shown.name != name:
            collection.left_out.append(f"{shown} (a name that is not UTF-8)")
            continue
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                _copy_folder(dir_fd, name, target / name, shown, depth, collection)
            elif stat.S_ISREG(info.st_mode):
                _copy_file(dir_fd, name, target / name, shown, info.st_size, collection)
            else:
                kind = "a link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
                collection.left_out.append(f"{shown} ({kind})")
        except OSError as exc:
            collection.left_out.append(f"{shown} ({exc.strerror or exc})")


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by the OS as surrogates) replaced."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _copy_folder(
    parent_fd: int,
    name: str,
    target: Path,
    shown: PurePosixPath,
    depth: int,
    collection: Collection,
) -> None:
    if depth >= collection.limits.max_depth:
        collection.left_out.append(f"{shown} (depth cap {collection.limits.max_depth})")
        return
    fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    try:
        target.mkdir(exist_ok=True)
        _copy_tree(fd, target, shown, depth + 1, collection)
    finally:
        os.close(fd)


def _copy_file(
    parent_fd: int,
    name: str,
    target: Path,
    shown: PurePosixPath,
    size: int,
    collection: Collection,
) -> None:
    if collection.copied_bytes + size > collection.limits.max_bytes:
        collection.left_out.append(f"{shown} (output cap {collection.limits.max_bytes} bytes)")
        return
    fd = os.open(name, FILE_FLAGS, dir_fd=parent_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            collection.left_out.append(f"{shown} (not a regular file)")
            return
        collection.copied_bytes += size
        with open(target, "wb") as out:
            remaining = size
            while remaining > 0:
                chunk = os.read(fd, min(CHUNK_BYTES, remaining))
                if not chunk:
                    break
                out.write(chunk)
                remaining -= len(chunk)
    finally:
        os.close(fd)
