"""Tar streams in and out of containers: workspace in (owned by the sandbox user), outputs
back under a size cap, extracted with the `data` filter (no links out, no absolute paths)."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

SANDBOX_UID = 65534


def workspace_tar(workspace: Path, into: IO[bytes]) -> None:
    """Write `workspace` as a tar whose members belong to the sandbox user."""

    def owned(member: tarfile.TarInfo) -> tarfile.TarInfo:
        member.uid = member.gid = SANDBOX_UID
        member.uname = member.gname = ""
        return member

    with tarfile.open(fileobj=into, mode="w") as tar:
        for path in sorted(workspace.iterdir()):
            tar.add(path, arcname=path.name, filter=owned)
    into.seek(0)


def extract_capped(chunks: Iterable[bytes], target: Path, cap_bytes: int) -> str:
    """Extract a tar stream (from `get_archive`) into `target`, dropping its top folder.
    Reads at most `cap_bytes` plus slack; regular files beyond the cap are left out.
    Returns a note when something was left out."""
    left_out: list[str] = []
    with tempfile.TemporaryFile() as spool:
        received = 0
        for chunk in chunks:
            received += len(chunk)
            if received > cap_bytes + 1024 * 1024:
                left_out.append("the rest of the archive (output cap)")
                break
            spool.write(chunk)
        spool.seek(0)
        target.mkdir(parents=True, exist_ok=True)
        copied = 0
        try:
            with tarfile.open(fileobj=spool, mode="r:") as tar:
                for member in tar:
                    parts = Path(member.name).parts[1:]
                    if not parts:
                        continue
                    if not (member.isfile() or member.isdir()):
                        left_out.append(f"{'/'.join(parts)} (not a regular file)")
                        continue
                    if member.isfile() and copied + member.size > cap_bytes:
                        left_out.append(f"{'/'.join(parts)} (output cap {cap_bytes} bytes)")
                        continue
                    copied += member.size if member.isfile() else 0
                    member.name = "/".join(parts)
                    tar.extract(member, target, filter="data")
        except (tarfile.ReadError, EOFError) as exc:
            left_out.append(f"truncated archive ({exc})")
    return f"outputs left out: {', '.join(left_out[:5])}" if left_out else ""
