"""The disk quota of a run: a filesystem of its own, as big as the quota.

As root, the host mounts a tmpfs of `disk_mb` for each run and puts everything the run can
write to disk there: the copy of its workspace, and the upper layer of an overlay that the
run sees at `/cache` (the campaign's pack cache below it, read-only). A write or an
allocation past the quota fails inside the run with ENOSPC, and a run whose filesystem
filled is reported `disk`. The tmpfs pages are charged to the memory cgroup of the process
that writes them, so what the run stores counts against its memory limit too. After the
run, what it added to the cache is copied into the campaign's cache by the safe collector.

Not as root the host cannot mount, and the old wall remains: the workspace is a plain
folder, the cache a plain bind, and the host measures the workspace every 0.2 s (through
directory descriptors, never following a link) and stops the run past its quota.

`DiskWatch` polls the usage in both cases; with a filesystem of its own it is only the
source of the `disk` status (the filesystem is the wall).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from scientist.sandbox.collect import OutputLimits, collect_outputs

POLL_S = 0.2
JOIN_S = 5.0
MIB = 1024 * 1024
MS_NOSUID, MS_NODEV = 0x2, 0x4
MNT_DETACH = 0x2
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
UPPER, WORK = "cache-upper", "cache-work"
SCRATCH_PREFIX = "scientist-run-"

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: Path, kind: str, options: str) -> None:
    flags = MS_NOSUID | MS_NODEV
    if _libc.mount(source.encode(), str(target).encode(), kind.encode(), flags, options.encode()):
        code = ctypes.get_errno()
        raise OSError(code, f"mounting {kind} at {target}: {os.strerror(code)}")


def _unmount(target: Path) -> None:
    if _libc.umount2(str(target).encode(), MNT_DETACH) and ctypes.get_errno() != errno.EINVAL:
        code = ctypes.get_errno()
        raise OSError(code, f"unmounting {target}: {os.strerror(code)}")


def disk_usage(root: Path) -> int:
    """Bytes allocated under `root`: every folder is opened through its parent's descriptor
    without following a link, so a folder swapped for a link is never entered; hard links
    count once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    try:
        pending = [os.open(root, DIR_FLAGS)]
    except OSError:
        return 0
    while pending:
        folder = pending.pop()
        try:
            names = [entry.name for entry in os.scandir(folder)]
            for name in names:
                with suppress(OSError):
                    info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                    if (info.st_dev, info.st_ino) in seen:
                        continue
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        pending.append(os.open(name, DIR_FLAGS, dir_fd=folder))
        except OSError:
            pass
        finally:
            os.close(folder)
    return total


@dataclass(frozen=True)
class RunDisk:
    """Where one run writes: its workspace, what it sees at /cache (None: no cache), and
    whether a filesystem of the quota's size holds them (`root`)."""

    root: Path
    quota_bytes: int
    own_filesystem: bool
    workspace: Path
    cache: Path | None

    def used_bytes(self) -> int:
        if not self.own_filesystem:
            return disk_usage(self.workspace)
        info = os.statvfs(self.root)
        return (info.f_blocks - info.f_bfree) * info.f_frsize

    def full(self) -> bool:
        """Whether the run has used its quota (on a filesystem of its own: all but a margin
        smaller than one write, so a write past it has failed)."""
        if not self.own_filesystem:
            return self.used_bytes() > self.quota_bytes
        return self.used_bytes() >= self.quota_bytes - min(MIB, self.quota_bytes // 16)

    def save_cache(self, cache_dir: Path | None, limits: OutputLimits) -> str:
        """Copy what the finished run added to its cache layer into `cache_dir`, group
        writable for the next runs, within `limits` but for bytes (the layer is already
        within the quota); '' or a note on what was left out."""
        if cache_dir is None or not self.own_filesystem or self.cache == cache_dir:
            return ""  # no cache, no layer, or a cache shared live
        limits = replace(limits, max_bytes=self.quota_bytes)
        note = collect_outputs(self.root, UPPER, cache_dir, limits)
        for folder, dirs, files in os.walk(self.root / UPPER):
            relative = Path(folder).relative_to(self.root / UPPER)
            for name in [*dirs, *files]:
                with suppress(OSError):
                    target = cache_dir / relative / name
                    if not target.is_symlink():
                        target.chmod(target.stat().st_mode | (0o2070 if name in dirs else 0o060))
        return note.replace("outputs left out", "cache entries left out")


@contextmanager
def run_disk(
    scratch: Path,
    quota_bytes: int,
    cache_dir: Path | None,
    owner: tuple[int, int],
    *,
    shared_cache: bool = False,
) -> Iterator[RunDisk]:
    """The run's disk under the private folder `scratch`: a tmpfs of `quota_bytes` as root
    (the workspace folder in it, `cache_dir` below an overlay whose writes land in it, unless
    the operator shares the cache live: `shared_cache`), else plain folders. `owner`
    (uid, gid) owns what the run writes into."""
    if os.geteuid() != 0:
        yield RunDisk(scratch, quota_bytes, False, scratch / "workspace", cache_dir)
        return
    unmount_orphans(scratch.parent)
    root = scratch / "disk"
    root.mkdir(mode=0o755)
    _mount("tmpfs", root, "tmpfs", f"size={quota_bytes},mode=0755")
    view = scratch / "cache"
    try:
        layered = cache_dir is not None and not shared_cache
        if layered:
            _cache_overlay(root, cache_dir, view, owner)
        try:
            yield RunDisk(
                root, quota_bytes, True, root / "workspace", view if layered else cache_dir
            )
        finally:
            if layered:
                _unmount(view)
    finally:
        _unmount(root)


def campaign_scratch(campaign: str | None) -> str:
    """The name prefix of every scratch folder of `campaign`'s runs (of runs outside a
    campaign when None), whichever process made them."""
    tag = "none" if campaign is None else hashlib.sha256(campaign.encode()).hexdigest()[:12]
    return f"{SCRATCH_PREFIX}{tag}-"


def scratch_prefix(campaign: str | None = None) -> str:
    """The name prefix of this process's scratch folders for `campaign`'s runs: a later
    process recognises those of a killed one by the campaign's tag and the pid."""
    return f"{campaign_scratch(campaign)}{os.getpid()}-"


def scratch_owner(name: str) -> int | None:
    """The pid that made the scratch folder `name` (None: not a scratch folder)."""
    parts = name.removeprefix(SCRATCH_PREFIX).split("-")
    if not name.startswith(SCRATCH_PREFIX) or len(parts) < 3 or not parts[1].isdigit():
        return None
    return int(parts[1])


def unmount_orphans(parent: Path) -> None:
    """Unmount and remove the disks that a killed process left in scratch folders under
    `parent` (its pid is gone)."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = Path(line.split()[1].replace("\\040", " "))
        folder = target.parent
        if folder.parent != parent:
            continue
        owner = scratch_owner(folder.name)
        if owner is not None and not Path(f"/proc/{owner}").exists():
            with suppress(OSError):
                _unmount(target)
                shutil.rmtree(folder, ignore_errors=True)


def _cache_overlay(root: Path, cache_dir: Path, view: Path, owner: tuple[int, int]) -> None:
    """Mount `cache_dir` read-only below a layer in `root` at `view` (the cache folder is
    reached through a descriptor, so a link swapped in is never followed)."""
    upper, work = root / UPPER, root / WORK
    upper.mkdir(mode=0o775)
    os.chown(upper, -1, owner[1])
    upper.chmod(0o2775)
    work.mkdir(mode=0o700)
    view.mkdir(mode=0o755)
    lower = os.open(cache_dir, DIR_FLAGS)
    try:
        options = f"lowerdir=/proc/self/fd/{lower},upperdir={upper},workdir={work}"
        _mount("overlay", view, "overlay", options)
    finally:
        os.close(lower)


class DiskWatch:
    """Polls the run's disk from a host thread and records when it fills. Where the run has
    no filesystem of its own, `stop_run` is called once the quota is passed."""

    def __init__(self, disk: RunDisk, stop_run: Callable[[], None]) -> None:
        self.disk = disk
        self.stop_run = stop_run
        self.seen_full = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=JOIN_S)

    def _watch(self) -> None:
        while not self._done.wait(POLL_S) and not self.seen_full:
            self.seen_full = self.disk.full()
            if self.seen_full and not self.disk.own_filesystem:
                self.stop_run()

    def filled(self) -> bool:
        """Whether the run filled its disk at a poll or holds it full now."""
        return self.seen_full or self.disk.full()
