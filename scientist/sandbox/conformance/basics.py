"""The basic contract: results, errors, time, memory, processes, environment, host files."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

from scientist.models import RunSpec
from scientist.sandbox.conformance.bench import (
    FORK_BOMB,
    Bench,
    expect,
    host_environment,
    host_processes_with,
    probe,
)


@probe
def ok_run_returns_outputs_and_leaves_the_workspace_alone(bench: Bench) -> None:
    back = bench.root / "results"
    spec = RunSpec(
        workspace=bench.workspace,
        argv=["python", "main.py", "--seed", "3"],
        timeout_s=60,
        output_dir=back,
        labels={"scientist.run": "ok-run"},
    )
    result = bench.sandbox.run(spec)
    expect(result.status == "ok" and result.exit_code == 0, "an ok run is ok", result)
    expect("experiment done" in result.stdout_tail, "stdout comes back", result)
    expect(result.output_dir == back, "the outputs are where the spec said", result)
    written = json.loads((back / "result.json").read_text())
    expect(written == {"argv": ["--seed", "3"]}, "the run's output file comes back intact")
    expect((bench.workspace / "input.txt").read_text() == "original", "the workspace is a copy")
    expect(not (bench.workspace / "out").exists(), "nothing is written into the host workspace")
    expect(result.backend == bench.sandbox.name, "the result names its backend", result)


@probe
def nonzero_exit_is_an_error_with_the_stderr_tail(bench: Bench) -> None:
    result = bench.run("import sys\nprint('bad config: lr', file=sys.stderr)\nsys.exit(3)\n")
    expect(result.status == "error" and result.exit_code == 3, "exit 3 is an error", result)
    expect("bad config: lr" in result.stderr_tail, "stderr comes back", result)


@probe
def infinite_loop_times_out(bench: Bench) -> None:
    started = time.monotonic()
    result = bench.run("while True: pass", timeout_s=2)
    expect(result.status == "timeout", "the host timer stops the run", result)
    expect(time.monotonic() - started < 2 + 5 + bench.startup_s, "promptly", result)


@probe
def allocation_past_the_memory_limit_is_oom(bench: Bench) -> None:
    result = bench.run("block = b'x' * (4 * 1024**3)\nprint(len(block))\n", memory_mb=512)
    expect(result.status == "oom", "4 GB under a 512 MB limit is oom", result)


@probe
def fork_bomb_is_contained(bench: Bench) -> None:
    mark = f"forkbomb-{uuid.uuid4().hex}"
    started = time.monotonic()
    result = bench.run(FORK_BOMB, timeout_s=3, pids=64, env={"MARK": mark})
    expect(result.status in {"timeout", "error"}, "a fork bomb ends the run", result)
    expect(time.monotonic() - started < 3 + 10 + bench.startup_s, "promptly", result)
    responsive = time.monotonic()
    subprocess.run(["true"], check=True, timeout=5)
    expect(time.monotonic() - responsive < 2, "the host still starts processes")
    expect(host_processes_with(f"MARK={mark}") == [], "no bomb process survives")


@probe
def background_processes_do_not_outlive_the_run(bench: Bench) -> None:
    mark = f"daemon-{uuid.uuid4().hex}"
    source = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
        print("parent leaves", flush=True)
    """
    result = bench.run(source, timeout_s=20, env={"MARK": mark})
    expect(result.status == "ok" and result.duration_s < 10, "the run ends with its parent", result)
    expect(host_processes_with(mark) == [], "the daemon died with the run", result)


@probe
def secrets_never_enter_the_sandbox(bench: Bench) -> None:
    secrets = {"OPENAI_API_KEY": "sk-host-secret-1", "HF_TOKEN": "hf-host-secret-2"}
    with host_environment(**secrets, SCIENTIST_VISIBLE="shown"):
        result = bench.run(
            "import os, json; print(json.dumps(dict(os.environ)))",
            env_allowlist=[*secrets, "SCIENTIST_VISIBLE"],
            env={"DB_PASSWORD": "hunter2", "SEED": "7"},
        )
    environment = json.loads(result.stdout_tail)
    expect(environment["SCIENTIST_VISIBLE"] == "shown", "allowlisted variables pass", result)
    expect(environment["SEED"] == "7", "the spec's variables pass", result)
    for secret in (*secrets.values(), "hunter2"):
        expect(secret not in result.stdout_tail, f"{secret} stays out", result)


@probe
def writes_outside_the_workspace_do_not_reach_the_host(bench: Bench) -> None:
    host_file = bench.root / "host_owned.txt"
    host_file.write_text("host data")
    targets = [str(host_file), "/etc/scientist_probe", "/usr/scientist_probe"]
    result = bench.run(
        f"""
        for target in {targets!r}:
            try:
                open(target, "w").write("overwritten")
                print("wrote", target)
            except OSError as exc:
                print("refused", target, exc.errno)
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    expect(host_file.read_text() == "host data", "a host file is untouched", result)
    for target in targets[1:]:
        expect(not Path(target).exists(), f"{target} was not created", result)


@probe
def the_experiment_cannot_lift_its_own_limits(bench: Bench) -> None:
    source = """
        import resource
        for limit in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC):
            try:
                resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            except (ValueError, OSError) as exc:
                print("refused", limit, exc, flush=True)
        while True:
            pass
    """
    result = bench.run(source, timeout_s=3)
    expect(result.status == "timeout", "the time limit holds", result)


@probe
def killing_the_watchdog_does_not_extend_the_run(bench: Bench) -> None:
    source = """
        import os, signal, time
        for pid in {os.getppid(), 1}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError as exc:
                print("refused", pid, exc, flush=True)
        time.sleep(3600)
    """
    started = time.monotonic()
    result = bench.run(source, timeout_s=3)
    expect(result.status != "ok", "the run did not pass", result)
    expect(time.monotonic() - started < 3 + 5 + bench.startup_s, "the timer held", result)


@probe
def huge_stdout_is_capped(bench: Bench) -> None:
    source = """
        import sys
        line = "y" * 1023 + "\\n"
        for _ in range(50 * 1024):
            sys.stdout.write(line)
        print("the end")
    """
    result = bench.run(source)
    expect(result.status == "ok", "the run is ok", result)
    expect(len(result.stdout_tail) < 80 * 1024, "only a tail of stdout is kept")
    expect(result.stdout_tail.rstrip().endswith("the end"), "the tail is the end")
