"""Pieces every backend shares: the scrubbed environment, the run's scratch folder, bounded
output tails and the status of a finished run."""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from scientist.errors import SandboxError
from scientist.models import RunSpec, RunStatus
from scientist.sandbox.disk import (
    RunDisk,
    campaign_scratch,
    run_disk,
    scratch_owner,
    scratch_prefix,
    unmount_orphans,
)

TAIL_BYTES = 64 * 1024
WORKDIR = "/workspace"
CACHE_MOUNT = "/cache"
CACHE_ENV = "SCIENTIST_CACHE"
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECRET_PATTERNS = ("*_API_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*_KEY")


def is_secret(name: str) -> bool:
    """True for names that look like credentials; these never enter a sandbox."""
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in SECRET_PATTERNS)


def sandbox_env(
    spec: RunSpec, *, home: str, tmpdir: str, path: str = SANDBOX_PATH
) -> dict[str, str]:
    """The run's environment, built from nothing: minimal basics, allowlisted host variables,
    the spec's explicit variables; anything that looks like a secret is dropped."""
    threads = str(max(1, int(spec.cpus)))
    env = {
        "PATH": path,
        "HOME": home,
        "TMPDIR": tmpdir,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    for name in spec.env_allowlist:
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(spec.env)
    if spec.cache_dir is not None:
        env[CACHE_ENV] = CACHE_MOUNT
    return {name: value for name, value in env.items() if not is_secret(name)}


class TailBuffer:
    """Keeps only the last `cap` bytes of a stream, so huge output is never held whole."""

    def __init__(self, cap: int = TAIL_BYTES) -> None:
        self.cap = cap
        self.total = 0
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._data += chunk[-self.cap :]
        if len(self._data) > self.cap:
            del self._data[: len(self._data) - self.cap]

    def text(self) -> str:
        text = self._data.decode("utf-8", errors="replace")
        if self.total > self.cap:
            return f"[... {self.total - self.cap} earlier bytes dropped ...]\n{text}"
        return text


def drain(stream: BinaryIO, tail: TailBuffer) -> threading.Thread:
    """Read `stream` to its end in a daemon thread, feeding `tail` chunk by chunk."""

    def pump() -> None:
        with stream:
            while chunk := stream.read1(TAIL_BYTES):
                tail.feed(chunk)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def prepare_cache(path: Path, gid: int) -> None:
    """Create the pack cache `path` if it is missing and, when this process owns it, make it
    writable for the sandbox group `gid` (setgid, so what runs create stays shared).
    Never through a link: a link there is refused."""
    path.mkdir(mode=0o775, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        message = f"the pack cache {path} is not a plain folder ({exc.strerror})"
        raise SandboxError(message) from None
    try:
        info = os.fstat(fd)
        if info.st_uid == os.geteuid():
            if os.geteuid() == 0 and info.st_gid != gid:
                os.fchown(fd, -1, gid)
            os.fchmod(fd, stat.S_IMODE(info.st_mode) | 0o2070)
    finally:
        os.close(fd)


def remove_stale_scratch(campaign: str) -> list[Path]:
    """Remove the scratch folders of `campaign`'s runs whose owning process is gone (a killed
    campaign's, their disks unmounted first), never following a link; a folder whose owner
    still runs is kept."""
    parent = Path(tempfile.gettempdir())
    unmount_orphans(parent)
    removed = []
    for folder in parent.glob(f"{campaign_scratch(campaign)}*"):
        owner = scratch_owner(folder.name)
        if owner is None or process_alive(owner) or folder.is_symlink():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process `pid` exists on this host (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def run_scratch(
    spec: RunSpec, uid: int, gid: int, campaign: str | None = None
) -> Iterator[RunDisk]:
    """The run's disk (`scientist.sandbox.disk`) in a private folder: a copy of the spec's
    workspace owned by the run's uid (as root; otherwise writable by all, inside a folder
    only the caller can enter), and the spec's pack cache prepared; named after `campaign`
    and this process (`remove_stale_scratch`). Removed afterwards, never following a link
    the run left there."""
    if spec.cache_dir is not None:
        prepare_cache(spec.cache_dir, gid)
    scratches = tempfile.TemporaryDirectory(
        prefix=scratch_prefix(campaign), ignore_cleanup_errors=True
    )
    quota = spec.disk_mb * 1024 * 1024
    owner, shared = (uid, gid), spec.cache_shared
    with (
        scratches as scratch,
        run_disk(Path(scratch), quota, spec.cache_dir, owner, shared_cache=shared) as disk,
    ):
        shutil.copytree(spec.workspace, disk.workspace, symlinks=True)
        for folder, dirs, files in os.walk(disk.workspace):
            for name in [".", *dirs, *files]:
                path = os.path.join(folder, name)
                if os.geteuid() == 0:
                    os.chown(path, uid, gid, follow_symlinks=False)
                elif not os.path.islink(path):
                    os.chmod(path, 0o777 if os.path.isdir(path) else 0o666)
        yield disk


def run_status(
    spec: RunSpec, code: int | None, *, timed_out: bool, oom_killed: bool, disk_full: bool
) -> tuple[RunStatus, str]:
    """The status of a finished run, from what the host saw: its own timer, the kernel's OOM
    record, its disk. Never from the run's output or an exit code it could choose. An
    out-of-memory kill of a process the run survived (exit 0) is a note on an ok run."""
    if timed_out:
        return "timeout", f"killed after the {spec.timeout_s:g} s time limit"
    if oom_killed and code != 0:
        return "oom", f"killed by the kernel past its {spec.memory_mb} MB memory limit"
    if disk_full:
        return "disk", f"filled its {spec.disk_mb} MB disk quota"
    if code == 0:
        note = "a process of the run ran out of memory and was killed" if oom_killed else ""
        return "ok", note
    return "error", f"exited with code {code}"
