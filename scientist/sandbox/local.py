"""The local backend: a subprocess in a temporary copy of the workspace.

Isolation (see `isolation.py`): new session and process group, killed as a whole at the
timeout (TERM, a grace period, then KILL); rlimits for memory (address space), CPU seconds
and processes; a network namespace with no route out; as root, the unprivileged uid 65534.
Every run's environment carries a unique SCIENTIST_SANDBOX_RUN marker; after the run, any
process of the sandbox uid still holding it (e.g. a daemon that left the group with setsid)
is killed. A child that execs with a wiped environment escapes that sweep, though it keeps
the CPU-seconds and process limits; use the docker backend where that matters.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scientist.backends import register_backend
from scientist.config import SandboxConfig
from scientist.models import RunResult, RunSpec, RunStatus
from scientist.sandbox.base import Availability
from scientist.sandbox.common import (
    OUTPUT_CAP_BYTES,
    SANDBOX_PATH,
    TailBuffer,
    copy_capped,
    drain,
    memory_message,
    sandbox_env,
)
from scientist.sandbox.isolation import NOBODY, Isolation, namespaces_available, rlimits

KILL_GRACE_S = 2.0
RUN_MARKER = "SCIENTIST_SANDBOX_RUN"


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """TERM the whole process group, wait a grace period, then KILL what is left of it."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=KILL_GRACE_S)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _kill_marked(uid: int, marker: bytes) -> None:
    """SIGKILL every process of `uid` whose environment holds `marker`."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/environ", "rb") as environ:
                if marker not in environ.read().split(b"\0"):
                    continue
            os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


class LocalSandbox:
    """Runs specs as local subprocesses; see the module docstring for what it enforces."""

    name = "local"

    def __init__(self, *, campaign: str | None = None, output_cap_bytes: int = OUTPUT_CAP_BYTES):
        self.campaign = campaign
        self.output_cap_bytes = output_cap_bytes

    def check(self) -> Availability:
        isolated, reason = namespaces_available()
        if Isolation(network=False, limits={}, namespaces=isolated).drops_privileges:
            user = f"runs as uid {NOBODY}"
        else:
            user = "runs as the calling user (host files unprotected: start as root or use docker)"
        return Availability(ok=True, reason=f"{user}; {reason}")

    def run(self, spec: RunSpec) -> RunResult:
        if not spec.workspace.is_dir():
            return RunResult(
                exit_code=None,
                status="infra",
                backend=self.name,
                message=f"workspace {spec.workspace} is not a folder",
            )
        with tempfile.TemporaryDirectory(prefix="scientist-run-") as scratch:
            return self._run_in(Path(scratch), spec)

    def _run_in(self, scratch: Path, spec: RunSpec) -> RunResult:
        namespaces, _ = namespaces_available()
        limits = rlimits(
            memory_mb=spec.memory_mb, timeout_s=spec.timeout_s, cpus=spec.cpus, pids=spec.pids
        )
        isolation = Isolation(network=spec.network, limits=limits, namespaces=namespaces)
        workspace, tmp = scratch / "workspace", scratch / "tmp"
        shutil.copytree(spec.workspace, workspace, symlinks=True)
        tmp.mkdir()
        if isolation.drops_privileges:
            _chown_tree(scratch, NOBODY)
        argv = [sys.executable, *spec.argv[1:]] if spec.argv[0] == "python" else list(spec.argv)
        path = f"{Path(sys.executable).parent}:{SANDBOX_PATH}"
        env = sandbox_env(spec, home=str(workspace), tmpdir=str(tmp), path=path)
        env[RUN_MARKER] = scratch.name
        if spec.gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(gpu) for gpu in spec.gpus)
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                argv,
                cwd=workspace,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=isolation.preexec,
                close_fds=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return RunResult(
                exit_code=None,
                status="infra",
                backend=self.name,
                duration_s=time.monotonic() - started,
                network_isolated=isolation.network_isolated,
                message=f"could not start {argv[0]}: {exc}",
            )
        stdout, stderr = TailBuffer(), TailBuffer()
        readers = [drain(process.stdout, stdout), drain(process.stderr, stderr)]
        timed_out = False
        try:
            process.wait(timeout=spec.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            if process.poll() is None:
                _kill_group(process)
            else:
                _signal_group(process.pid, signal.SIGKILL)  # stragglers left in the group
            run_uid = NOBODY if isolation.drops_privileges else os.geteuid()
            _kill_marked(run_uid, f"{RUN_MARKER}={scratch.name}".encode())
        duration = time.monotonic() - started
        for reader in readers:
            reader.join(timeout=5)
        status, message = self._classify(process.returncode, timed_out, stderr.text(), spec)
        output_dir, note = self._collect(workspace, spec)
        return RunResult(
            exit_code=process.returncode,
            status=status,
            stdout_tail=stdout.text(),
            stderr_tail=stderr.text(),
            duration_s=round(duration, 4),
            output_dir=output_dir,
            backend=self.name,
            network_isolated=isolation.network_isolated,
            message="; ".join(part for part in (message, note) if part),
        )

    @staticmethod
    def _classify(code: int, timed_out: bool, stderr: str, spec: RunSpec) -> tuple[RunStatus, str]:
        if timed_out or code == -signal.SIGXCPU:
            return "timeout", f"killed after the {spec.timeout_s:g} s time limit"
        if code == 0:
            return "ok", ""
        if memory_message(stderr) or code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
            return "oom", f"ran out of its {spec.memory_mb} MB memory limit (exit {code})"
        return "error", f"exited with code {code}"

    def _collect(self, workspace: Path, spec: RunSpec) -> tuple[Path | None, str]:
        if spec.output_dir is None:
            return None, ""
        source = workspace / spec.output_subdir
        if not source.resolve().is_relative_to(workspace.resolve()) or not source.is_dir():
            spec.output_dir.mkdir(parents=True, exist_ok=True)
            return spec.output_dir, f"no output folder '{spec.output_subdir}' was written"
        return spec.output_dir, copy_capped(source, spec.output_dir, self.output_cap_bytes)


@register_backend("local")
def _open_local(config: SandboxConfig, campaign: str | None) -> LocalSandbox:
    return LocalSandbox(campaign=campaign)
