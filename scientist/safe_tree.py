"""Reading and copying trees a pack, a run or a model controls, without following its links.

The host runs as root, so a link such as `notes.txt -> /root/secret` in a pack, or a link to a
large folder, must never be dereferenced. Every walk here goes through directory descriptors
opened with `O_NOFOLLOW`; a link is never opened. A copy keeps a link as a link when it
points inside the tree copied (relative, and still inside once every link on its way is
resolved), and refuses the whole copy when one points outside: the host never copies what a
link leaves the tree for.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from scientist.errors import LinkRefused

CHUNK_BYTES = 1024 * 1024
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
MAX_LINK_HOPS = 40


def open_folder(root: Path, relative: PurePosixPath | str = "") -> int:
    """A descriptor of folder `root/relative`, opened one component at a time; no component
    of `relative` may be a link (`root` itself is the caller's, and may be reached through
    links). Raises OSError otherwise."""
    parts = PurePosixPath(relative).parts
    if any(part in ("..", "/") for part in parts):
        raise OSError(f"not a relative path inside the tree: {relative}")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            if part == ".":
                continue
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return fd


def read_bytes(root: Path, relative: PurePosixPath | str) -> bytes:
    """The bytes of the regular file `root/relative`; OSError when any component of
    `relative` is a link, or the file is not a regular file."""
    path = PurePosixPath(relative)
    folder = open_folder(root, path.parent)
    try:
        fd = os.open(path.name, FILE_FLAGS, dir_fd=folder)
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{relative} is not a regular file")
        return handle.read()


def read_text(root: Path, relative: PurePosixPath | str) -> str:
    """The text of `root/relative` as `read_bytes` reads it, undecodable bytes replaced."""
    return read_bytes(root, relative).decode("utf-8", errors="replace")


def is_regular_file(root: Path, relative: PurePosixPath | str) -> bool:
    """Whether `root/relative` is a regular file reached through no link."""
    path = PurePosixPath(relative)
    try:
        folder = open_folder(root, path.parent)
    except OSError:
        return False
    try:
        info = os.stat(path.name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    finally:
        os.close(folder)
    return stat.S_ISREG(info.st_mode)


def walk_files(root: Path, *, skip: Iterable[str] = ()) -> list[PurePosixPath]:
    """The regular files under `root`, relative and sorted; links (to files or folders) and
    names matching a `skip` pattern (folders included) are passed over, never followed."""
    patterns = list(skip)
    try:
        fd = open_folder(root)
    except OSError:
        return []
    try:
        return sorted(_files(fd, PurePosixPath(), patterns))
    finally:
        os.close(fd)


def _files(dir_fd: int, relative: PurePosixPath, skip: list[str]) -> Iterator[PurePosixPath]:
    for name in sorted(entry.name for entry in os.scandir(dir_fd)):
        if any(fnmatch.fnmatch(name, pattern) for pattern in skip):
            continue
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISREG(info.st_mode):
            yield relative / name
        elif stat.S_ISDIR(info.st_mode):
            child = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            try:
                yield from _files(child, relative / name, skip)
            finally:
                os.close(child)


def copy_tree(source: Path, target: Path, *, skip: Iterable[str] = ()) -> None:
    """Copy `source` into `target` (created; may exist): folders and regular files as they
    are, a link as the same link when it stays inside `source`; names matching a `skip`
    pattern are left out. Raises `LinkRefused` (before writing anything) when a link leaves
    `source`; FIFOs, sockets and devices are left out."""
    patterns = list(skip)
    fd = open_folder(source)
    try:
        _check_links(fd, source, PurePosixPath(), patterns)
        target.mkdir(parents=True, exist_ok=True)
        _copy(fd, target, patterns)
    finally:
        os.close(fd)


def _check_links(dir_fd: int, source: Path, relative: PurePosixPath, skip: list[str]) -> None:
    for name in sorted(entry.name for entry in os.scandir(dir_fd)):
        if any(fnmatch.fnmatch(name, pattern) for pattern in skip):
            continue
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            _inside_or_refuse(source, relative / name)
        elif stat.S_ISDIR(info.st_mode):
            child = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            try:
                _check_links(child, source, relative / name, skip)
            finally:
                os.close(child)


def _inside_or_refuse(source: Path, link: PurePosixPath) -> None:
    """Resolve `link` inside `source` the way the kernel would, reading only link targets
    (never a file), and refuse it when it is absolute or leaves `source` on its way."""
    parts = list(link.parent.parts)
    target = PurePosixPath(os.readlink(source / link))
    if target.is_absolute():
        raise _refused(source, link)
    pending = list(target.parts)
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise _refused(source, link)
            parts.pop()
            continue
        here = source.joinpath(*parts, part)
        if here.is_symlink():
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise _refused(source, link)
            hop = PurePosixPath(os.readlink(here))
            if hop.is_absolute():
                raise _refused(source, link)
            pending = [*hop.parts, *pending]
            continue
        parts.append(part)


def _refused(source: Path, link: PurePosixPath) -> LinkRefused:
    return LinkRefused(
        f"{source / link} is a link out of {source} (to {os.readlink(source / link)})",
        hint="a pack's links must point inside it: replace the link by the file itself",
    )


def _copy(dir_fd: int, target: Path, skip: list[str]) -> None:
    for name in sorted(entry.name for entry in os.scandir(dir_fd)):
        if any(fnmatch.fnmatch(name, pattern) for pattern in skip):
            continue
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        destination = target / name
        if stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(name, dir_fd=dir_fd), destination)
        elif stat.S_ISDIR(info.st_mode):
            child = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            try:
                destination.mkdir(exist_ok=True)
                _copy(child, destination, skip)
            finally:
                os.close(child)
        elif stat.S_ISREG(info.st_mode):
            _copy_file(dir_fd, name, destination, stat.S_IMODE(info.st_mode))


def _copy_file(dir_fd: int, name: str, destination: Path, mode: int) -> None:
    fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        with open(destination, "wb") as out:
            while chunk := os.read(fd, CHUNK_BYTES):
                out.write(chunk)
        os.chmod(destination, mode)
    finally:
        os.close(fd)
