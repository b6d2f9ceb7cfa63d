"""Local-backend specifics and the shared pieces behind every backend."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from scientist import backends
from scientist.config import SandboxConfig, load_config
from scientist.errors import ConfigError, SandboxUnavailable
from scientist.models import RunResult, RunSpec
from scientist.sandbox import backend_options, known_kinds, open_sandbox, register_backend
from scientist.sandbox.cgroup import PREFIX, RunCgroup, cgroup_support
from scientist.sandbox.collect import OutputLimits, collect_outputs
from scientist.sandbox.common import TailBuffer, is_secret
from scientist.sandbox.conformance.bench import host_processes_with
from scientist.sandbox.docker_backend import DockerSandbox
from scientist.sandbox.local import LocalSandbox
from scientist.sandbox.uids import RUN_UIDS, SANDBOX_GID

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="uids and cgroups only as root")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("GITHUB_TOKEN", True),
        ("aws_secret_access_key", True),
        ("DB_PASSWORD", True),
        ("HF_HOME", False),
        ("CUDA_VISIBLE_DEVICES", False),
    ],
)
def test_secret_names_are_recognised(name: str, secret: bool) -> None:
    assert is_secret(name) is secret


def test_tail_buffer_keeps_only_the_end() -> None:
    tail = TailBuffer(cap=10)
    for chunk in (b"0123456789", b"abcdef", b"XYZ"):
        tail.feed(chunk)
    assert tail.text().endswith("789abcdefXYZ"[-10:])
    assert "9 earlier bytes dropped" in tail.text()


def test_collection_skips_links_and_stops_at_the_byte_cap(tmp_path: Path) -> None:
    source, target = tmp_path / "out", tmp_path / "back"
    (source / "sub").mkdir(parents=True)
    (source / "small.txt").write_text("a" * 10)
    (source / "sub" / "big.bin").write_bytes(b"b" * 5000)
    (source / "shadow").symlink_to("/etc/shadow")
    note = collect_outputs(tmp_path, "out", target, OutputLimits(max_bytes=1000))
    assert (target / "small.txt").read_text() == "a" * 10
    assert not (target / "sub" / "big.bin").exists()
    assert not (target / "shadow").exists()
    assert "big.bin (output cap 1000 bytes)" in note
    assert "shadow (a link)" in note


def test_collection_never_enters_a_linked_output_folder(tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key").write_text("private")
    (tmp_path / "out").symlink_to(tmp_path / "secret")
    note = collect_outputs(tmp_path, "out", tmp_path / "back", OutputLimits())
    assert list((tmp_path / "back").iterdir()) == []
    assert "no output folder 'out'" in note


def test_collection_stops_at_its_time_limit(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "file").write_text("x")
    note = collect_outputs(tmp_path, "out", tmp_path / "back", OutputLimits(max_seconds=-1))
    assert "collection time limit" in note


def _run(sandbox: LocalSandbox, workspace: Path, source: str, **fields: object) -> RunResult:
    (workspace / "probe.py").write_text(source)
    return sandbox.run(RunSpec(workspace=workspace, argv=["python", "probe.py"], **fields))


def test_python_is_the_host_interpreter(workspace: Path) -> None:
    result = _run(LocalSandbox(), workspace, "import sys; print(sys.executable)", timeout_s=30)
    assert result.stdout_tail.strip() == sys.executable


@root_only
def test_as_root_the_run_has_a_uid_of_its_own_and_root_home_is_hidden(workspace: Path) -> None:
    source = "import os; print(os.getuid(), os.getgid(), sorted(os.listdir('/root')))"
    result = _run(LocalSandbox(), workspace, source, timeout_s=30)
    uid, gid, *listing = result.stdout_tail.split(maxsplit=2)
    assert int(uid) in RUN_UIDS
    assert int(gid) == SANDBOX_GID
    assert result.ok
    assert ".bashrc" not in listing[0]


@root_only
def test_check_lists_what_this_host_enforces() -> None:
    availability = LocalSandbox().check()
    assert availability.ok
    enforced = {guarantee.name for guarantee in availability.guarantees if guarantee.enforced}
    assert {"processes die with the run", "network", "runs apart from each other"} <= enforced


def test_oversized_outputs_are_left_out_with_a_note(workspace: Path, tmp_path: Path) -> None:
    source = (
        "import os\nos.makedirs('out')\n"
        "open('out/keep.txt', 'w').write('k')\nopen('out/huge.bin', 'wb').write(b'0' * 4096)\n"
    )
    sandbox = LocalSandbox(limits=OutputLimits(max_bytes=1024))
    result = _run(sandbox, workspace, source, timeout_s=30, output_dir=tmp_path / "back")
    assert result.ok
    assert (tmp_path / "back" / "keep.txt").read_text() == "k"
    assert not (tmp_path / "back" / "huge.bin").exists()
    assert "huge.bin" in result.message


def test_a_missing_program_is_an_infra_failure(workspace: Path) -> None:
    spec = RunSpec(workspace=workspace, argv=["no-such-program-xyz"], timeout_s=10)
    result = LocalSandbox().run(spec)
    assert result.status == "infra"
    assert "no-such-program-xyz" in result.message


def test_a_missing_workspace_is_an_infra_failure(tmp_path: Path) -> None:
    result = LocalSandbox().run(RunSpec(workspace=tmp_path / "absent", argv=["true"]))
    assert result.status == "infra"


class ProbeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = "none"


def test_open_sandbox_builds_registered_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_BACKENDS", dict(backends._BACKENDS))
    assert open_sandbox(SandboxConfig(kind="local")).name == "local"

    @register_backend("conformance-probe", options=ProbeOptions)
    def _probe(config: SandboxConfig, campaign: str | None) -> LocalSandbox:
        options = backend_options(config, "conformance-probe")
        return LocalSandbox(campaign=f"{campaign}:{options.label}")

    config = SandboxConfig.model_validate(
        {"kind": "conformance-probe", "conformance-probe": {"label": "x"}}
    )
    assert open_sandbox(config, campaign="c1").campaign == "c1:x"
    assert "conformance-probe" in known_kinds() and "docker" in known_kinds()
    for bad, message in (
        ({"kind": "nonexistent"}, "unknown sandbox kind 'nonexistent'"),
        ({"conformance-probe": {"colour": "red"}}, "sandbox.conformance-probe.colour"),
        ({"dokcer": {}}, "unknown sandbox kind 'dokcer'"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(overrides={"template": "merge", "sandbox": bad})


def test_docker_without_an_engine_is_unavailable_with_a_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    availability = DockerSandbox(image="any").check()
    assert not availability.ok
    assert "start" in (availability.hint or "")
    with pytest.raises(SandboxUnavailable, match="cannot reach the Docker engine"):
        open_sandbox(SandboxConfig(kind="docker"))


def test_pinned_gpus_are_the_only_visible_devices(workspace: Path) -> None:
    source = "import os; print(os.environ.get('CUDA_VISIBLE_DEVICES'))"
    result = _run(LocalSandbox(), workspace, source, timeout_s=30, gpus=[2, 3])
    assert result.stdout_tail.strip() == "2,3"


@root_only
def test_a_run_group_left_by_a_killed_process_is_removed() -> None:
    probe = RunCgroup.create(64, 64)
    if probe is None:
        pytest.skip(f"no cgroups here: {cgroup_support()}")
    probe.remove()
    orphan = probe.memory.parent / f"{PREFIX}{_gone_pid()}-left"
    orphan.mkdir()
    group = RunCgroup.create(64, 64)
    assert group is not None
    group.remove()
    assert not orphan.exists()


def _gone_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_an_interpreter_in_the_hosts_tmp_still_runs(tmp_path: Path, workspace: Path) -> None:
    venv = tmp_path / "venv"  # under /tmp, which the run sees as its own empty tmpfs
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    driver = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scientist.models import RunSpec\n"
        "from scientist.sandbox.local import LocalSandbox\n"
        "spec = RunSpec(workspace=Path(sys.argv[1]), argv=['python', '-c', "
        "'import sys; print(sys.prefix)'], timeout_s=30)\n"
        "result = LocalSandbox().run(spec)\n"
        "print(result.status, result.stdout_tail.strip(), result.stderr_tail.strip())\n"
    )
    checkout = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": checkout}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", driver, str(workspace)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.stdout.split()[:2] == ["ok", str(venv)], done.stdout + done.stderr


@root_only
def test_no_process_of_a_run_outlives_a_killed_campaign(tmp_path: Path, workspace: Path) -> None:
    mark = f"campaign-{uuid.uuid4().hex}"
    driver = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scientist.models import RunSpec\n"
        "from scientist.sandbox.local import LocalSandbox\n"
        "spec = RunSpec(workspace=Path(sys.argv[1]), argv=['sleep', '600'], timeout_s=600,"
        " env={'MARK': sys.argv[2][::-1]})\n"
        "LocalSandbox().run(spec)\n"
    )
    checkout = str(Path(__file__).resolve().parents[2])
    campaign = subprocess.Popen(
        [sys.executable, "-c", driver, str(workspace), mark[::-1]],
        env={**os.environ, "PYTHONPATH": checkout},
    )
    deadline = time.monotonic() + 30
    while not host_processes_with(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    bwraps = [pid for pid in _children(campaign.pid) if "bwrap" in _command(pid)]
    assert bwraps and host_processes_with(mark)
    campaign.kill()
    campaign.wait()
    deadline = time.monotonic() + 5
    while _living([*bwraps, *host_processes_with(mark)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _living([*bwraps, *host_processes_with(mark)]) == []
    assert _run(LocalSandbox(), workspace, "print('next')", timeout_s=30).ok
    left = f"scientist-run-{campaign.pid}-"
    assert left not in Path("/proc/mounts").read_text(), "the next run unmounts its disk"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        found += [int(child) for child in children.read_text().split()]
    return found


def _living(pids: list[int]) -> list[int]:
    """Those of `pids` that still run (neither gone nor a zombie)."""
    living = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text():
                living.append(pid)
    return living


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@root_only
def test_tcp_buffers_of_a_run_with_network_count_as_memory(workspace: Path) -> None:
    source = (
        "import socket\n"
        "queued = 0\n"
        "server = socket.socket()\n"
        "server.bind(('127.0.0.1', 0))\n"
        "server.listen()\n"
        "held = []\n"
        "try:\n"
        "    while queued < 1024**3:\n"
        "        sender = socket.create_connection(server.getsockname())\n"
        "        receiver, _ = server.accept()\n"
        "        sender.setblocking(False)\n"
        "        held += [sender, receiver]\n"
        "        try:\n"
        "            while True:\n"
        "                queued += sender.send(b'x' * 65536)\n"
        "        except BlockingIOError:\n"
        "            pass\n"
        "except OSError as exc:\n"
        "    print('stopped', exc)\n"
        "print('queued MB', queued // 1024**2)\n"
    )
    result = _run(LocalSandbox(), workspace, source, timeout_s=60, memory_mb=256, network=True)
    queued = [line for line in result.stdout_tail.splitlines() if line.startswith("queued MB")]
    assert result.status == "oom" or (queued and int(queued[-1].split()[-1]) < 512), result
