"""The local backend: each run in a bubblewrap sandbox (see `bwrap.py` for what it sees).

Every process of the run lives in its own PID namespace, so all of them die with it: when
the run's first process exits, or when the host kills the namespace's init at the time
limit; the bubblewrap process itself dies with the campaign process (a parent-death
signal), even a SIGKILLed one. Only then are the outputs collected. As root each
concurrent run gets a uid of its own, a disk of its own (`disk.py`) and a cgroup that
bounds the memory (tmpfs, memfds and socket buffers included) and the processes of the
whole run; `check()` lists what this host enforces.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scientist.backends import register_backend
from scientist.config import SandboxConfig
from scientist.errors import SandboxError
from scientist.models import RunResult, RunSpec
from scientist.sandbox.base import Availability, Guarantee
from scientist.sandbox.bwrap import Layout, bwrap_path
from scientist.sandbox.cgroup import RunCgroup, cgroup_support
from scientist.sandbox.collect import OutputLimits, collect_outputs
from scientist.sandbox.common import (
    SANDBOX_PATH,
    WORKDIR,
    TailBuffer,
    drain,
    run_scratch,
    run_status,
    sandbox_env,
)
from scientist.sandbox.disk import DiskWatch, RunDisk
from scientist.sandbox.limits import OPEN_FILES
from scientist.sandbox.seccomp_filter import seccomp_program
from scientist.sandbox.uids import run_identity

AS_ROOT = os.geteuid() == 0
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class LocalSandbox:
    """Runs specs in bubblewrap sandboxes; see the module docstring for what it enforces."""

    name = "local"

    def __init__(self, *, campaign: str | None = None, limits: OutputLimits | None = None):
        self.campaign = campaign
        self.limits = limits or OutputLimits()

    @staticmethod
    def install_hint(missing: list[str], pack: Path) -> str:
        return (
            f"pip install {' '.join(missing)}, or install them into a per-pack environment "
            "with --install-requirements"
        )

    def check(self) -> Availability:
        if bwrap_path() is None:
            return Availability(
                ok=False,
                reason="bubblewrap (bwrap) is not installed",
                hint="apt-get install bubblewrap",
            )
        _, no_seccomp = seccomp_program(False)
        no_cgroup = cgroup_support()
        guarantees = [
            Guarantee(name="processes die with the run", enforced=True, how="PID namespace"),
            Guarantee(
                name="host files",
                enforced=True,
                how="mount namespace: read-only system, no checkout, homes or campaigns",
            ),
            Guarantee(
                name="network",
                enforced=True,
                how="network namespace with only lo; AF_UNIX sockets only without network",
            ),
            Guarantee(
                name="syscall filter",
                enforced=not no_seccomp,
                how=no_seccomp or "seccomp denylist + no_new_privs",
            ),
            Guarantee(
                name="runs apart from each other",
                enforced=AS_ROOT,
                how="a uid of its own per run, no capabilities"
                if AS_ROOT
                else "not as root: runs keep the caller's uid",
            ),
            Guarantee(
                name="memory of the whole run",
                enforced=not no_cgroup,
                how="memory cgroup (tmpfs, memfds and socket buffers included)"
                if not no_cgroup
                else f"per process only (RLIMIT_AS): {no_cgroup}",
            ),
            Guarantee(
                name="processes per run",
                enforced=not no_cgroup or AS_ROOT,
                how="pids cgroup" if not no_cgroup else "RLIMIT_NPROC of the run's uid",
            ),
            Guarantee(
                name="disk quota",
                enforced=True,
                how="a tmpfs of the quota for workspace and cache writes"
                if AS_ROOT
                else "not as root: host watch of the workspace + RLIMIT_FSIZE",
            ),
            Guarantee(name="time", enforced=True, how="host timer kills the PID namespace"),
            Guarantee(
                name="kernel-wide resources",
                enforced=AS_ROOT and not no_seccomp,
                how="AIO refused, RLIMIT_NOFILE, inotify per uid (a uid per run)",
            ),
        ]
        missing = [guarantee.name for guarantee in guarantees if not guarantee.enforced]
        reason = "bubblewrap sandbox" + (f"; not enforced: {', '.join(missing)}" if missing else "")
        return Availability(ok=True, reason=reason, guarantees=guarantees)

    def run(self, spec: RunSpec) -> RunResult:
        if not spec.workspace.is_dir():
            return self._infra(f"workspace {spec.workspace} is not a folder", 0.0)
        if bwrap_path() is None:
            return self._infra("bubblewrap (bwrap) is not installed", 0.0)
        started = time.monotonic()
        try:
            with (
                run_identity(None) as (uid, gid),
                run_scratch(spec, uid or 0, gid, self.campaign) as disk,
            ):
                return self._run_in(disk, spec, uid, gid, started)
        except (OSError, SandboxError) as exc:
            return self._infra(f"could not set up the run: {exc}", time.monotonic() - started)

    def _infra(self, message: str, took: float) -> RunResult:
        return RunResult(
            exit_code=None,
            status="infra",
            backend=self.name,
            duration_s=round(took, 4),
            message=message,
        )

    def _run_in(
        self, disk: RunDisk, spec: RunSpec, uid: int | None, gid: int, started: float
    ) -> RunResult:
        cgroup = RunCgroup.create(spec.memory_mb, spec.pids) if AS_ROOT else None
        try:
            return self._supervise(disk, spec, uid, gid, cgroup, started)
        finally:
            if cgroup is not None:
                cgroup.kill_all()
                cgroup.remove()

    def _supervise(
        self,
        disk: RunDisk,
        spec: RunSpec,
        uid: int | None,
        gid: int,
        cgroup: RunCgroup | None,
        started: float,
    ) -> RunResult:
        path = f"{Path(sys.executable).parent}:{SANDBOX_PATH}"
        argv = [sys.executable, *spec.argv[1:]] if spec.argv[0] == "python" else list(spec.argv)
        if "/" not in argv[0] and shutil.which(argv[0], path=path) is None:
            return self._infra(f"could not start {argv[0]}: not found on the sandbox PATH", 0.0)
        env = sandbox_env(spec, home=WORKDIR, tmpdir="/tmp", path=path)
        env.update({"USER": "sandbox", "LOGNAME": "sandbox"})
        if spec.gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(gpu) for gpu in spec.gpus)
        program, _ = seccomp_program(spec.network)
        info_read, info_write = os.pipe()
        filter_read, filter_write = os.pipe()
        os.write(filter_write, program or b"")
        os.close(filter_write)
        layout = Layout(
            spec=spec,
            workspace=disk.workspace,
            cache=disk.cache,
            uid=uid,
            gid=gid,
            info_fd=info_write,
            seccomp_fd=filter_read if program else None,
        )
        try:
            process = subprocess.Popen(
                layout.argv(argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_child_setup(spec, cgroup, disk),
                pass_fds=(info_write, filter_read),
                umask=0o002,
            )
        except OSError:
            os.close(info_read)
            raise
        finally:
            os.close(info_write)
            os.close(filter_read)
        stdout, stderr = TailBuffer(), TailBuffer()
        readers = [drain(process.stdout, stdout), drain(process.stderr, stderr)]
        init_pid = _namespace_init(info_read)

        def stop() -> None:
            _kill_run(process, init_pid, cgroup)

        with DiskWatch(disk, stop) as watch:
            timed_out = not _exits_within(process, spec.timeout_s)
            if timed_out:
                stop()
            process.wait()
            disk_full = watch.filled()
        duration = time.monotonic() - started
        for reader in readers:
            reader.join(timeout=5)
        if init_pid is None:
            detail = stderr.text().strip().splitlines()[-1:] or [f"exit {process.returncode}"]
            return self._infra(f"bubblewrap could not start the run: {detail[0]}", duration)
        status, message = run_status(
            spec,
            process.returncode,
            timed_out=timed_out,
            oom_killed=cgroup is not None and cgroup.oom_killed(),
            disk_full=disk_full,
        )
        notes = [disk.save_cache(spec.cache_dir, self.limits)]
        if spec.output_dir is not None:
            notes.append(
                collect_outputs(disk.workspace, spec.output_subdir, spec.output_dir, self.limits)
            )
        return RunResult(
            exit_code=process.returncode,
            status=status,
            stdout_tail=stdout.text(),
            stderr_tail=stderr.text(),
            duration_s=round(duration, 4),
            output_dir=spec.output_dir,
            backend=self.name,
            network_isolated=not spec.network,
            message="; ".join(part for part in (message, *notes) if part),
        )


def _child_setup(spec: RunSpec, cgroup: RunCgroup | None, disk: RunDisk) -> Callable[[], None]:
    """What the forked child does before exec'ing bubblewrap: die with this thread (the
    kernel's parent-death signal), join the run's cgroup, set the limits the kernel keeps per
    process (soft == hard, so they cannot be raised)."""
    limits = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NPROC: spec.pids,
        resource.RLIMIT_NOFILE: OPEN_FILES,
    }
    if not disk.own_filesystem:
        limits[resource.RLIMIT_FSIZE] = spec.disk_mb * 1024 * 1024
    if cgroup is None:
        limits[resource.RLIMIT_AS] = spec.memory_mb * 1024 * 1024
    parent = os.getpid()

    def setup() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        if cgroup is not None:
            cgroup.join()
        for limit, value in limits.items():
            resource.setrlimit(limit, (value, value))

    return setup


def _exits_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Whether `process` exits within `seconds`; waits on a pidfd, without polling."""
    pidfd = os.pidfd_open(process.pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], seconds)
    finally:
        os.close(pidfd)
    return bool(ready)


def _namespace_init(info_fd: int) -> int | None:
    """The host pid of the run's PID-namespace init, from bubblewrap's info JSON (None when
    bubblewrap failed before creating it)."""
    with os.fdopen(info_fd, "rb") as info:
        raw = info.read()
    try:
        return int(json.loads(raw)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None


def _kill_run(
    process: subprocess.Popen[bytes], init_pid: int | None, cgroup: RunCgroup | None
) -> None:
    """Kill every process of the run: the namespace's init takes all the others with it, and
    bubblewrap exits once they are all gone."""
    if init_pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(init_pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


@register_backend("local")
def _open_local(config: SandboxConfig, campaign: str | None) -> LocalSandbox:
    return LocalSandbox(campaign=campaign)
