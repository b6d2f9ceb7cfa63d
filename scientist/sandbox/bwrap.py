"""The bubblewrap command line of one local run.

The run gets its own PID, IPC, UTS and (unless the spec allows network) network namespace,
and a mount namespace built from nothing: the system folders (`/usr`, `/etc`, the merged
`/bin`, `/lib`...) and the interpreter's prefix read-only, `/proc`, a minimal `/dev` (plus
the device nodes of the pinned GPUs), a minimal `/sys` (the CPU and NUMA topology; for GPU
runs the PCI device tree, which names the host's physical network interfaces; never the
host's cgroups), size-capped tmpfs `/tmp` and `/dev/shm`, the run's own workspace at
`/workspace`, and the pack cache at `/cache` when there is one. Nothing else of the host
exists in it: no checkout, no campaign folder, no home. As root, `setpriv` then drops to
the run's own uid with no capabilities and no_new_privs, under the seccomp filter
bubblewrap loaded.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from scientist.models import RunSpec
from scientist.sandbox.common import CACHE_MOUNT, WORKDIR

SYSTEM_FOLDERS = ("/usr", "/etc")
MERGED_FOLDERS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SETPRIV = "/usr/bin/setpriv"
SYS_FOLDERS = ("/sys/devices/system/cpu", "/sys/devices/system/node")
GPU_SYS_FOLDERS = ("/sys/bus/pci", "/sys/devices/pci*", "/sys/module/nvidia")
NVIDIA_CONTROL_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def gpu_device_nodes(gpus: list[int], dev: Path = Path("/dev")) -> list[Path]:
    """The device nodes a run pinned to `gpus` needs: `/dev/nvidiaN` of each pinned N and
    the driver's control nodes, those that exist under `dev`."""
    if not gpus:
        return []
    names = [f"nvidia{gpu}" for gpu in sorted(set(gpus))] + list(NVIDIA_CONTROL_NODES)
    return [dev / name for name in names if (dev / name).exists()]


def interpreter_prefixes() -> list[Path]:
    """The folders this interpreter lives in that the system folders do not cover."""
    prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    return sorted(
        prefix
        for prefix in prefixes
        if not any(prefix.is_relative_to(folder) for folder in SYSTEM_FOLDERS)
    )


@dataclass(frozen=True)
class Layout:
    """What one run sees and who it runs as; `argv` turns it into a bwrap command line."""

    spec: RunSpec
    workspace: Path
    cache: Path | None
    uid: int | None
    gid: int
    info_fd: int
    seccomp_fd: int | None

    def argv(self, command: list[str]) -> list[str]:
        args = [bwrap_path() or "bwrap", "--die-with-parent", "--new-session"]
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if not self.spec.network:
            args.append("--unshare-net")
        args += self._system() + self._sys() + self._private() + self._read_only()
        args += self._shared()
        args += ["--info-fd", str(self.info_fd)]
        if self.seccomp_fd is not None:
            args += ["--seccomp", str(self.seccomp_fd)]
        args += ["--chdir", WORKDIR, "--"]
        if self.uid is not None:
            args += [SETPRIV, f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]
            args += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return args + command

    @staticmethod
    def _system() -> list[str]:
        args: list[str] = []
        for folder in SYSTEM_FOLDERS:
            args += ["--ro-bind", folder, folder]
        for folder in MERGED_FOLDERS:
            if os.path.islink(folder):
                args += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                args += ["--ro-bind", folder, folder]
        return [*args, "--proc", "/proc", "--dev", "/dev"]

    def _sys(self) -> list[str]:
        patterns = SYS_FOLDERS + (GPU_SYS_FOLDERS if self.spec.gpus else ())
        args: list[str] = []
        for folder in sorted(path for pattern in patterns for path in glob.glob(pattern)):
            if os.path.isdir(folder):
                args += ["--ro-bind", folder, folder]
        return args

    def _private(self) -> list[str]:
        """The run's own `/tmp` and `/dev/shm` (before the interpreter, which may live in
        the host's /tmp, as a throwaway venv does)."""
        size = str(self.spec.memory_mb * 1024 * 1024)
        args = ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
        return [*args, "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]

    def _read_only(self) -> list[str]:
        """The interpreter's prefixes and the spec's read-only folders, at their own paths,
        their parents created on the way."""
        args: list[str] = []
        made: set[Path] = set()
        for prefix in [*interpreter_prefixes(), *self.spec.read_only]:
            for parent in reversed(prefix.parents[:-1]):
                if parent not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += ["--ro-bind", str(prefix), str(prefix)]
        return args

    def _shared(self) -> list[str]:
        args = ["--bind", str(self.workspace), WORKDIR]
        if self.cache is not None:
            args += ["--bind", str(self.cache), CACHE_MOUNT]
        for device in gpu_device_nodes(self.spec.gpus):
            args += ["--dev-bind", str(device), str(device)]
        return args
