"""A memory and pids cgroup for one local run, under this process's own cgroup.

The memory limit then covers the whole run: every process, its `/tmp` and `/dev/shm`
(tmpfs pages are charged to the writer's cgroup), memfds, and socket buffers (on v1 the
separate TCP-buffer counter, which also carries UDP's, is limited to the same size; v2
counts them in the one limit). The kernel's OOM counter of
the group tells an out-of-memory kill from any other death. cgroup v1 (separate `memory`
and `pids` hierarchies) and v2 (one unified hierarchy) are both handled; where neither lets
this process create a child group, `RunCgroup.create` returns None and the caller says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "scientist-run-"
KILL_WAIT_S = 5.0
OPTIONAL_SETTINGS = ("memory.memsw", "memory.swap", "memory.kmem")


def _own_paths() -> dict[str, str]:
    """controller name -> this process's cgroup path ('' for the unified v2 hierarchy)."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


@dataclass(frozen=True)
class RunCgroup:
    """The run's group folders: one per v1 controller, or the single v2 folder."""

    memory: Path
    pids: Path

    @property
    def folders(self) -> list[Path]:
        return sorted({self.memory, self.pids})

    @classmethod
    def create(cls, memory_mb: int, pids: int) -> RunCgroup | None:
        """A fresh group with these limits, or None where the host does not allow one."""
        name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        own = _own_paths()
        if (CGROUP_ROOT / "memory" / "memory.limit_in_bytes").exists() and "pids" in own:
            group = cls(
                memory=CGROUP_ROOT / "memory" / own["memory"].lstrip("/") / name,
                pids=CGROUP_ROOT / "pids" / own["pids"].lstrip("/") / name,
            )
            settings = {
                group.memory / "memory.limit_in_bytes": str(memory_mb * 1024 * 1024),
                group.memory / "memory.memsw.limit_in_bytes": str(memory_mb * 1024 * 1024),
                group.memory / "memory.kmem.tcp.limit_in_bytes": str(memory_mb * 1024 * 1024),
                group.pids / "pids.max": str(pids),
            }
        elif (CGROUP_ROOT / "cgroup.controllers").exists() and "" in own:
            folder = CGROUP_ROOT / own[""].lstrip("/") / name
            group = cls(memory=folder, pids=folder)
            settings = {
                folder / "memory.max": str(memory_mb * 1024 * 1024),
                folder / "memory.swap.max": "0",
                folder / "pids.max": str(pids),
            }
        else:
            return None
        try:
            for folder in group.folders:
                _remove_orphans(folder.parent)
                folder.mkdir()
            for path, value in settings.items():
                if path.exists() or not path.name.startswith(OPTIONAL_SETTINGS):
                    _write(path, value)
        except OSError:
            group.remove()
            return None
        return group

    def join(self) -> None:
        """Move the calling process into the group (run in the child before exec)."""
        for folder in self.folders:
            _write(folder / "cgroup.procs", str(os.getpid()))

    def processes(self) -> list[int]:
        with contextlib.suppress(OSError):
            return [int(pid) for pid in (self.pids / "cgroup.procs").read_text().split()]
        return []

    def kill_all(self) -> None:
        """SIGKILL every process in the group until it is empty (bounded wait)."""
        deadline = time.monotonic() + KILL_WAIT_S
        while (members := self.processes()) and time.monotonic() < deadline:
            for pid in members:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of this group for passing its memory limit."""
        for name in ("memory.oom_control", "memory.events"):
            with contextlib.suppress(OSError):
                for line in (self.memory / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
        return False

    def remove(self) -> None:
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def _remove_orphans(parent: Path) -> None:
    """Remove the empty run groups under `parent` whose creating process is gone (one that
    was killed before it could remove its own)."""
    for folder in parent.glob(f"{PREFIX}*"):
        owner = folder.name.removeprefix(PREFIX).split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            with contextlib.suppress(OSError):
                folder.rmdir()


@cache
def cgroup_support() -> str:
    """'' when runs get a cgroup here, else why not (probed once)."""
    group = RunCgroup.create(64, 64)
    if group is None:
        return "this process cannot create memory and pids cgroups here"
    group.remove()
    return ""
