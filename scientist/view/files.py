"""The campaign's files as the view's change detection sees them: folders listed a few levels
down, and paths with their modification times and sizes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def stats(paths: Iterable[Path]) -> bytes:
    """Each path with its modification time and size (missing ones left out)."""
    lines = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        lines.append(f"{path}:{stat.st_mtime_ns}:{stat.st_size};")
    return "".join(lines).encode()


def tree(folder: Path, depth: int) -> list[Path]:
    """`folder` and what lies in it, `depth` levels down (links not followed)."""
    found = [folder]
    if depth == 0:
        return found
    try:
        with os.scandir(folder) as entries:
            children = [(Path(e.path), e.is_dir(follow_symlinks=False)) for e in entries]
    except OSError:
        return found
    for path, is_folder in sorted(children):
        found += tree(path, depth - 1) if is_folder else [path]
    return found


def subfolders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(entry.path) for entry in entries if entry.is_dir())
    except OSError:
        return []
