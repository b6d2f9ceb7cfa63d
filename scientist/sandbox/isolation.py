"""Process isolation for the local backend, applied in the child between fork and exec.

As root the child gets a private mount namespace and (unless the spec allows network) a new
network namespace with only a down loopback, then drops to the unprivileged uid/gid 65534
(nobody). Host folders the interpreter lives under but `nobody` cannot enter (e.g. a
pyenv Python in /root, mode 700) are covered with an empty tmpfs into which only the
interpreter's tree is bind-mounted, so the rest of the admin's home stays hidden.
As nobody, RLIMIT_NPROC counts only sandboxed processes and host files owned by root are
read-only. Not as root, the child enters a new user + network namespace and keeps the
caller's file permissions (use the docker backend to protect host files then).
Limits are set as soft == hard, so the experiment cannot raise them again.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
NOBODY = 65534

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _hidden_ancestors(paths: list[Path]) -> list[tuple[str, str]]:
    """(top folder nobody cannot enter, its child on the way to the path) for each path."""
    pairs: dict[str, str] = {}
    for path in paths:
        parts = path.resolve().parts
        for depth in range(2, len(parts)):
            folder = Path(*parts[:depth])
            mode = folder.stat().st_mode
            if not mode & 0o001:
                pairs.setdefault(str(folder), parts[depth])
                break
    return sorted(pairs.items())


def interpreter_roots() -> list[tuple[str, str]]:
    """The folders to cover with a tmpfs and the children to expose, for this interpreter."""
    roots = {Path(sys.executable).parent, Path(sys.base_prefix), Path(sys.prefix)}
    return _hidden_ancestors(sorted(roots))


@dataclass(frozen=True)
class Isolation:
    """What the child does before exec; built in the parent, run in the child."""

    network: bool
    limits: dict[int, int]
    namespaces: bool = True
    as_root: bool = field(default_factory=lambda: os.geteuid() == 0)
    exposed: list[tuple[str, str]] = field(default_factory=interpreter_roots)

    @property
    def drops_privileges(self) -> bool:
        """As root the child runs as nobody, unless the interpreter would be out of reach."""
        return self.as_root and (self.namespaces or not self.exposed)

    @property
    def network_isolated(self) -> bool:
        return self.namespaces and not self.network

    def preexec(self) -> None:
        """Runs in the forked child: namespaces, mounts, uid drop, rlimits."""
        if self.namespaces and self.as_root:
            _check(_libc.unshare(CLONE_NEWNS | (0 if self.network else CLONE_NEWNET)))
            _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))
            for folder, child in self.exposed:
                self._expose(folder, child)
        elif self.namespaces and not self.network:
            _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET))
        if self.drops_privileges:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        for limit, value in self.limits.items():
            resource.setrlimit(limit, (value, value))

    @staticmethod
    def _expose(folder: str, child: str) -> None:
        """Cover `folder` with an empty tmpfs and bind-mount only `folder/child` back."""
        mount_point = os.path.join(folder, child)
        handle = os.open(mount_point, os.O_PATH | os.O_DIRECTORY)
        options = b"mode=755,size=64k"
        _check(_libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options))
        os.mkdir(mount_point)
        source = f"/proc/self/fd/{handle}".encode()
        _check(_libc.mount(source, mount_point.encode(), None, MS_BIND | MS_REC, None))
        os.close(handle)


def rlimits(*, memory_mb: int, timeout_s: float, cpus: float, pids: int) -> dict[int, int]:
    """Address space, CPU seconds (timeout x cpus, so SIGXCPU backs up the wall clock),
    processes, and no core dumps."""
    cpu_seconds = int(timeout_s * max(cpus, 1.0)) + 2
    return {
        resource.RLIMIT_AS: memory_mb * 1024 * 1024,
        resource.RLIMIT_CPU: cpu_seconds,
        resource.RLIMIT_NPROC: pids,
        resource.RLIMIT_CORE: 0,
    }


@cache
def namespaces_available() -> tuple[bool, str]:
    """Whether this kernel lets the child enter the namespaces above (probed once)."""
    probe = Isolation(network=False, limits={})
    try:
        subprocess.run(
            ["/bin/true"], preexec_fn=probe.preexec, check=True, timeout=10, close_fds=True
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return False, f"namespaces refused by the kernel ({exc}); runs keep host network"
    return True, "network namespace available"
