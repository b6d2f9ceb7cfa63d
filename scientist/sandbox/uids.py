"""A uid of its own for each concurrent run (local or docker), leased through a lock file.

Runs with different uids cannot signal, ptrace or read the private files of each other.
The lease is an exclusive `flock` on `/run/scientist-sandbox/<uid>.lock`: it is released
when the run ends, even when the process holding it dies, and it works across processes.
All runs share the group SANDBOX_GID, which is how a cache folder shared by a campaign's
runs stays writable for each of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scientist.errors import SandboxError

RUN_UIDS = range(1_200_000, 1_200_256)
SANDBOX_GID = 65534
LEASES = Path("/run/scientist-sandbox")


def _lease_folder() -> int:
    """A descriptor of the lease folder: root's own, not a link, writable by root only."""
    with contextlib.suppress(FileExistsError):
        LEASES.mkdir(mode=0o700)
    fd = os.open(LEASES, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    info = os.fstat(fd)
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        os.close(fd)
        raise SandboxError(f"{LEASES} must be owned by root and writable by root only")
    return fd


@contextmanager
def run_identity(fallback_uid: int | None) -> Iterator[tuple[int | None, int]]:
    """(uid, gid) of a run: as root a leased uid of its own and SANDBOX_GID; else
    `fallback_uid` (None: the caller's) and the caller's group."""
    if os.geteuid() != 0:
        yield fallback_uid, os.getegid() if fallback_uid is None else SANDBOX_GID
        return
    with leased_uid() as uid:
        yield uid, SANDBOX_GID


@contextmanager
def leased_uid() -> Iterator[int]:
    """A uid from RUN_UIDS that no other run holds, for as long as the block runs."""
    folder = _lease_folder()
    try:
        start = random.randrange(len(RUN_UIDS))
        for offset in range(len(RUN_UIDS)):
            uid = RUN_UIDS[(start + offset) % len(RUN_UIDS)]
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            lock = os.open(f"{uid}.lock", flags, 0o600, dir_fd=folder)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            try:
                yield uid
            finally:
                os.close(lock)
            return
        raise SandboxError(f"all {len(RUN_UIDS)} sandbox uids are in use")
    finally:
        os.close(folder)
