"""The walls around a run: network, host view, other runs, memory, processes, disk, cache."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import scientist
from scientist.models import RunResult
from scientist.sandbox.conformance.bench import FORK_BOMB, Bench, expect, probe


@contextmanager
def loopback_listeners() -> Iterator[tuple[list[tuple[str, int]], list[str]]]:
    """TCP listeners on the host's 127.0.0.1 and ::1: their (host, port)s and the peers that
    connected to them while the block ran."""
    servers, connected = [], []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        server = socket.socket(family, socket.SOCK_STREAM)
        server.bind((host, 0))
        server.listen()
        server.settimeout(0.2)
        servers.append(server)
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            for server in servers:
                try:
                    peer, address = server.accept()
                except OSError:
                    continue
                connected.append(str(address))
                peer.close()

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    try:
        yield [server.getsockname()[:2] for server in servers], connected
    finally:
        done.set()
        watcher.join()
        for server in servers:
            server.close()


@probe
def host_loopback_is_unreachable(bench: Bench) -> None:
    with loopback_listeners() as (addresses, connected):
        result = bench.run(
            f"""
            import socket
            for host, port in {addresses!r}:
                try:
                    socket.create_connection((host, port), timeout=3)
                    print("connected", host)
                except OSError as exc:
                    print("blocked", host, exc)
            """,
            timeout_s=30,
        )
    expect(result.status == "ok" and result.network_isolated, "the probe runs isolated", result)
    expect("connected" not in result.stdout_tail, "no connection to the host", result)
    expect(connected == [], "the host's listeners saw nobody", result)


@probe
def the_host_is_out_of_view(bench: Bench) -> None:
    checkout = Path(scientist.__file__).resolve()
    result = bench.run(
        f"""
        import os
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
        print("pids", len(pids))
        print("host pid visible", os.path.exists("/proc/{os.getpid()}/cmdline")
              and b"python" in open("/proc/{os.getpid()}/cmdline", "rb").read())
        for path in ({str(checkout)!r}, {str(bench.root)!r}):
            print("sees", path, os.path.exists(path))
        status = open("/proc/self/status").read()
        print([line for line in status.splitlines() if line.startswith(("NoNewPrivs", "Seccomp:"))])
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    count = int(result.stdout_tail.split("pids ", 1)[1].split()[0])
    expect(count < 20, "only the run's own processes are visible", result)
    expect("host pid visible True" not in result.stdout_tail, "no host command line", result)
    expect(" True" not in result.stdout_tail.split("host pid visible")[1], "no host folder", result)
    expect("'NoNewPrivs:\\t1'" in result.stdout_tail, "no_new_privs is set", result)
    expect("'Seccomp:\\t2'" in result.stdout_tail, "a seccomp filter is loaded", result)


@probe
def new_namespaces_and_mounts_are_refused(bench: Bench) -> None:
    result = bench.run(
        """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        for name, flag in (("user", 0x10000000), ("mount", 0x00020000), ("net", 0x40000000)):
            print(name, "refused" if libc.unshare(flag) != 0 else "ALLOWED")
        mounted = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0
        print("mount", "ALLOWED" if mounted else "refused")
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    expect("ALLOWED" not in result.stdout_tail, "no new namespace, no mount", result)


def in_thread(target: object, *args: object) -> tuple[threading.Thread, list[RunResult]]:
    results: list[RunResult] = []
    thread = threading.Thread(target=lambda: results.append(target(*args)), daemon=True)  # type: ignore[operator]
    thread.start()
    return thread, results


@probe
def concurrent_runs_cannot_trace_each_other(bench: Bench) -> None:
    token = uuid.uuid4().hex
    victim = Bench(sandbox=bench.sandbox, root=bench.root / "victim")
    victim.workspace.mkdir(parents=True)
    source = """
        import os, time
        time.sleep(8)
        print("intact", os.environ["MARK"])
    """
    thread, victim_result = in_thread(lambda: victim.run(source, env={"MARK": token}))
    time.sleep(2 + bench.startup_s / 2)
    attacker = bench.run(
        f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        seen = attached = 0
        for name in os.listdir("/proc"):
            try:
                with open(f"/proc/{{name}}/environ", "rb") as environ:
                    if b"{token}" not in environ.read():
                        continue
            except OSError:
                continue
            seen += 1
            attached += libc.ptrace(16, int(name), 0, 0) == 0
            try:
                open(f"/proc/{{name}}/mem", "wb").close()
                attached += 1
            except OSError:
                pass
        print("seen", seen, "attached", attached)
        """
    )
    thread.join(timeout=60)
    expect(attacker.status == "ok", "the attacker runs", attacker)
    expect("attached 0" in attacker.stdout_tail, "no other run can be traced", attacker)
    expect(victim_result and f"intact {token}" in victim_result[0].stdout_tail, "victim intact")


@probe
def memory_limit_covers_every_process(bench: Bench) -> None:
    source = """
        import os, sys, time
        children = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = b"x" * (300 * 1024**2)
                time.sleep(3)
                os._exit(0)
            children.append(pid)
        codes = [os.waitpid(pid, 0)[1] for pid in children]
        print("children", codes)
        sys.exit(0 if not any(codes) else 1)
    """
    result = bench.run(source, memory_mb=512)
    expect(result.status == "oom", "4 x 300 MB under 512 MB is oom", result)


@probe
def memfd_and_dev_shm_count_as_memory(bench: Bench) -> None:
    name = f"scientist-probe-{uuid.uuid4().hex}"
    for source in (
        "import os\nfd = os.memfd_create('hold')\nos.write(fd, b'x' * (900 * 1024**2))\n",
        f"open('/dev/shm/{name}', 'wb').write(b'x' * (900 * 1024**2))\n",
    ):
        result = bench.run(source, memory_mb=256)
        expect(result.status in {"oom", "error"}, "900 MB under 256 MB fails", result)
    expect(not Path(f"/dev/shm/{name}").exists(), "nothing stays in the host's /dev/shm")


@probe
def a_fork_bomb_does_not_starve_another_run(bench: Bench) -> None:
    bomber = Bench(sandbox=bench.sandbox, root=bench.root / "bomber")
    bomber.workspace.mkdir(parents=True)
    thread, _ = in_thread(lambda: bomber.run(FORK_BOMB, timeout_s=8, pids=64))
    time.sleep(2 + bench.startup_s / 2)
    result = bench.run(
        """
        import subprocess
        for _ in range(16):
            subprocess.run(["true"], check=True)
        print("spawned 16")
        """,
        timeout_s=30,
    )
    thread.join(timeout=60)
    expect(result.status == "ok" and "spawned 16" in result.stdout_tail, "no starving", result)


@probe
def writes_past_the_disk_quota_fail_with_enospc(bench: Bench) -> None:
    source = """
        import errno
        block = b"x" * (16 * 1024**2)
        try:
            for index in range(128):
                with open(f"fill_{index}", "wb") as out:
                    out.write(block)
            print("wrote 2 GB")
        except OSError as exc:
            print("refused", errno.errorcode.get(exc.errno), flush=True)
            raise
    """
    started = time.monotonic()
    result = bench.run(source, disk_mb=64, timeout_s=120)
    expect("refused ENOSPC" in result.stdout_tail, "the kernel refuses the write", result)
    expect(result.status == "disk" and "disk quota" in result.message, "reported disk", result)
    expect(time.monotonic() - started < 60, "promptly", result)


@probe
def allocation_past_the_disk_quota_fails_with_enospc(bench: Bench) -> None:
    source = """
        import errno, os
        def allocate(name, megabytes):
            fd = os.open(name, os.O_CREAT | os.O_WRONLY)
            try:
                os.posix_fallocate(fd, 0, megabytes * 1024**2)
                return "allocated"
            except OSError as exc:
                return f"refused {errno.errorcode.get(exc.errno)}"
        print("at once", allocate("at_once.bin", 2400))
        steps = (allocate(f"step_{index}", 1) for index in range(2400))
        print("in steps", next((said for said in steps if said != "allocated"), "allocated all"))
    """
    result = bench.run(source, disk_mb=64)
    expect("at once refused ENOSPC" in result.stdout_tail, "fallocate stays in the quota", result)
    expect("in steps refused ENOSPC" in result.stdout_tail, "step by step too", result)
    expect(result.status == "disk", "a run that filled its quota is reported disk", result)


@probe
def cache_writes_count_against_the_disk_quota(bench: Bench) -> None:
    cache = bench.root / "pack-cache"
    source = """
        import errno, os
        block = b"x" * (16 * 1024**2)
        try:
            for index in range(30):
                with open(os.path.join(os.environ["SCIENTIST_CACHE"], f"c{index}"), "wb") as out:
                    out.write(block)
            print("wrote 480 MB")
        except OSError as exc:
            print("refused", errno.errorcode.get(exc.errno))
    """
    result = bench.run(source, disk_mb=64, cache_dir=cache)
    held = sum(path.stat().st_blocks * 512 for path in cache.rglob("*"))
    expect("refused ENOSPC" in result.stdout_tail, "the cache write is refused", result)
    expect(result.status == "disk", "the run is reported disk", result)
    expect(held <= 64 * 1024**2, "the campaign's cache holds no more than the quota", result)
    subprocess.run(["rm", "-rf", str(cache)], check=True)


@probe
def a_cache_that_is_a_link_is_refused(bench: Bench) -> None:
    victim = bench.root / "victim"
    victim.mkdir(mode=0o700)
    link = bench.root / "cache"
    link.symlink_to(victim)
    result = bench.run("print('ran')", cache_dir=link)
    expect(result.status == "infra", "a linked cache is not used", result)
    expect(stat.S_IMODE(victim.stat().st_mode) == 0o700, "nothing was chmod'ed through it")


@probe
def the_cache_is_shared_read_write(bench: Bench) -> None:
    cache = bench.root / "pack-cache"
    source = """
        import os
        path = os.path.join(os.environ["SCIENTIST_CACHE"], "log")
        open(path, "a").write("run\\n")
        print(open(path).read().count("run"))
    """
    first = bench.run(source, cache_dir=cache)
    second = bench.run(source, cache_dir=cache)
    expect(first.status == "ok" and second.stdout_tail.strip() == "2", "runs share it", second)
    expect(not os.path.islink(cache) and cache.is_dir(), "created as a plain folder")
    subprocess.run(["rm", "-rf", str(cache)], check=True)
