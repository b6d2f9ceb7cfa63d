"""One behaviour contract, run against every sandbox backend (see BACKENDS in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from scientist.models import RunSpec
from scientist.sandbox import Sandbox

Script = Callable[[str], list[str]]


def test_ok_run_returns_outputs_and_leaves_the_workspace_alone(
    sandbox: Sandbox, workspace: Path, tmp_path: Path
) -> None:
    spec = RunSpec(
        workspace=workspace,
        argv=["python", "main.py", "--seed", "3"],
        timeout_s=60,
        output_dir=tmp_path / "results",
        labels={"scientist.run": "ok-run"},
    )
    result = sandbox.run(spec)
    assert result.status == "ok", result
    assert result.exit_code == 0
    assert "experiment done" in result.stdout_tail
    assert result.output_dir == tmp_path / "results"
    assert json.loads((tmp_path / "results" / "result.json").read_text()) == {
        "argv": ["--seed", "3"]
    }
    assert (workspace / "input.txt").read_text() == "original"
    assert not (workspace / "out").exists()
    assert result.backend == sandbox.name


def test_nonzero_exit_is_an_error_with_the_stderr_tail(
    sandbox: Sandbox, workspace: Path, script: Script
) -> None:
    argv = script("import sys\nprint('bad config: lr', file=sys.stderr)\nsys.exit(3)\n")
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=60))
    assert result.status == "error"
    assert result.exit_code == 3
    assert "bad config: lr" in result.stderr_tail


def test_infinite_loop_times_out(sandbox: Sandbox, workspace: Path) -> None:
    spec = RunSpec(workspace=workspace, argv=["python", "-c", "while True: pass"], timeout_s=2)
    started = time.monotonic()
    result = sandbox.run(spec)
    assert result.status == "timeout"
    assert time.monotonic() - started < spec.timeout_s + 5 + _startup_allowance(sandbox)


def test_allocation_past_the_memory_limit_is_oom(
    sandbox: Sandbox, workspace: Path, script: Script
) -> None:
    argv = script("block = b'x' * (4 * 1024**3)\nprint(len(block))\n")
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=60, memory_mb=512))
    assert result.status == "oom", result


def test_fork_bomb_is_contained(sandbox: Sandbox, workspace: Path, script: Script) -> None:
    mark = f"forkbomb-{uuid.uuid4().hex}"
    argv = script(
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """
    )
    spec = RunSpec(workspace=workspace, argv=argv, timeout_s=3, pids=64, env={"MARK": mark})
    started = time.monotonic()
    result = sandbox.run(spec)
    assert result.status in {"timeout", "error"}
    assert time.monotonic() - started < spec.timeout_s + 10 + _startup_allowance(sandbox)
    responsive = time.monotonic()
    subprocess.run(["true"], check=True, timeout=5)
    assert time.monotonic() - responsive < 2
    assert _processes_with(f"MARK={mark}") == []


def test_background_processes_do_not_outlive_the_run(
    sandbox: Sandbox, workspace: Path, script: Script
) -> None:
    mark = f"daemon-{uuid.uuid4().hex}"
    argv = script(
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
        print("parent leaves", flush=True)
        """
    )
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=20, env={"MARK": mark}))
    assert result.status == "ok", result
    assert result.duration_s < 10
    assert _processes_with(f"MARK={mark}") == []


def test_network_is_unreachable(sandbox: Sandbox, workspace: Path, script: Script) -> None:
    argv = script(
        """
        import socket
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=3)
            print("connected")
        except OSError as exc:
            print("blocked", exc)
        """
    )
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=30))
    assert result.status == "ok", result
    assert result.network_isolated
    assert "blocked" in result.stdout_tail


def test_secrets_never_enter_the_sandbox(
    sandbox: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-1")
    monkeypatch.setenv("HF_TOKEN", "hf-host-secret-2")
    monkeypatch.setenv("SCIENTIST_VISIBLE", "shown")
    spec = RunSpec(
        workspace=workspace,
        argv=["python", "-c", "import os, json; print(json.dumps(dict(os.environ)))"],
        timeout_s=30,
        env_allowlist=["OPENAI_API_KEY", "HF_TOKEN", "SCIENTIST_VISIBLE"],
        env={"DB_PASSWORD": "hunter2", "SEED": "7"},
    )
    result = sandbox.run(spec)
    environment = json.loads(result.stdout_tail)
    assert environment["SCIENTIST_VISIBLE"] == "shown"
    assert environment["SEED"] == "7"
    for secret in ("sk-host-secret-1", "hf-host-secret-2", "hunter2"):
        assert secret not in result.stdout_tail
    assert "OPENAI_API_KEY" not in environment


def test_writes_outside_the_workspace_do_not_reach_the_host(
    sandbox: Sandbox, workspace: Path, script: Script, tmp_path: Path
) -> None:
    if os.geteuid() != 0 and sandbox.name == "local":
        pytest.skip("the local backend protects host files only when started as root")
    host_file = tmp_path / "host_owned.txt"
    host_file.write_text("host data")
    targets = [str(host_file), "/etc/scientist_probe", "/usr/scientist_probe"]
    argv = script(
        f"""
        for target in {targets!r}:
            try:
                open(target, "w").write("overwritten")
                print("wrote", target)
            except OSError as exc:
                print("refused", target, exc.errno)
        """
    )
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=30))
    assert result.status == "ok", result
    assert host_file.read_text() == "host data"
    assert not Path("/etc/scientist_probe").exists()
    assert not Path("/usr/scientist_probe").exists()


def test_the_experiment_cannot_lift_its_own_limits(
    sandbox: Sandbox, workspace: Path, script: Script
) -> None:
    argv = script(
        """
        import resource
        for limit in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC):
            try:
                resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            except (ValueError, OSError) as exc:
                print("refused", limit, exc, flush=True)
        while True:
            pass
        """
    )
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=3))
    assert result.status == "timeout", result


def test_killing_the_watchdog_does_not_extend_the_run(
    sandbox: Sandbox, workspace: Path, script: Script
) -> None:
    if os.geteuid() != 0 and sandbox.name == "local":
        pytest.skip("not as root, the local backend keeps the caller's uid, which can signal it")
    argv = script(
        """
        import os, signal, time
        for pid in {os.getppid(), 1}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError as exc:
                print("refused", pid, exc, flush=True)
        time.sleep(3600)
        """
    )
    spec = RunSpec(workspace=workspace, argv=argv, timeout_s=3)
    started = time.monotonic()
    result = sandbox.run(spec)
    assert result.status != "ok"
    assert time.monotonic() - started < spec.timeout_s + 5 + _startup_allowance(sandbox)


def test_huge_output_is_capped(sandbox: Sandbox, workspace: Path, script: Script) -> None:
    argv = script(
        """
        import sys
        line = "y" * 1023 + "\\n"
        for _ in range(50 * 1024):
            sys.stdout.write(line)
        print("the end")
        """
    )
    result = sandbox.run(RunSpec(workspace=workspace, argv=argv, timeout_s=60))
    assert result.status == "ok", result
    assert len(result.stdout_tail) < 80 * 1024
    assert result.stdout_tail.rstrip().endswith("the end")


def _startup_allowance(sandbox: Sandbox) -> float:
    return 5.0 if sandbox.name == "docker" else 0.0


def _processes_with(marker: str) -> list[int]:
    """Host pids whose initial environment holds `marker` (root can read every environ)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
