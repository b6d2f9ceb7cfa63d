"""Kernel resources a run shares with the host: socket families, socket buffers, AIO
contexts, open files, inotify instances, the host's view in /sys, the run's own init, and
the kernel's OOM record of a process that was not the first one."""

from __future__ import annotations

import time

from scientist.sandbox.conformance.bench import Bench, expect, probe
from scientist.sandbox.conformance.walls import in_thread
from scientist.sandbox.limits import OPEN_FILES


@probe
def only_unix_sockets_without_network(bench: Bench) -> None:
    result = bench.run(
        """
        import socket
        for name, family, kind in (
            ("unix", socket.AF_UNIX, socket.SOCK_STREAM),
            ("inet", socket.AF_INET, socket.SOCK_STREAM),
            ("inet6", socket.AF_INET6, socket.SOCK_DGRAM),
            ("vsock", socket.AF_VSOCK, socket.SOCK_STREAM),
            ("packet", socket.AF_PACKET, socket.SOCK_RAW),
            ("alg", socket.AF_ALG, socket.SOCK_SEQPACKET),
        ):
            try:
                socket.socket(family, kind).close()
                print(name, "opened")
            except OSError as exc:
                print(name, "refused", exc.errno)
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    expect("unix opened" in result.stdout_tail, "AF_UNIX sockets still work", result)
    for name in ("inet", "inet6", "vsock", "packet", "alg"):
        expect(f"{name} refused" in result.stdout_tail, f"AF_{name.upper()} is refused", result)


@probe
def socket_buffers_cannot_pass_the_memory_limit(bench: Bench) -> None:
    result = bench.run(
        """
        import socket
        queued = 0
        try:
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen()
            held = []
            while queued < 1024**3:
                sender = socket.create_connection(server.getsockname())
                receiver, _ = server.accept()
                sender.setblocking(False)
                held += [sender, receiver]
                try:
                    while True:
                        queued += sender.send(b"x" * 65536)
                except BlockingIOError:
                    pass
        except OSError as exc:
            print("stopped", exc.errno)
        print("queued MB", queued // 1024**2)
        """,
        memory_mb=256,
    )
    lines = [line for line in result.stdout_tail.splitlines() if line.startswith("queued MB")]
    queued = int(lines[-1].split()[-1]) if lines else 0
    expect(queued < 256, "socket buffers stay within the memory limit", result)


@probe
def aio_contexts_are_refused(bench: Bench) -> None:
    result = bench.run(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        context = ctypes.c_ulong(0)
        SYS_io_setup = 206
        code = libc.syscall(SYS_io_setup, 65536, ctypes.byref(context))
        print("io_setup", "ALLOWED" if code == 0 else f"refused {ctypes.get_errno()}")
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    expect("io_setup refused" in result.stdout_tail, "no run takes the host's AIO events", result)


@probe
def open_files_are_limited(bench: Bench) -> None:
    result = bench.run(
        """
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard * 2, hard * 2))
            print("raised")
        except (ValueError, OSError):
            pass
        print("nofile", resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    hard = int(result.stdout_tail.split("nofile")[1].split()[0])
    expect(hard <= OPEN_FILES and "raised" not in result.stdout_tail, "RLIMIT_NOFILE set", result)


@probe
def inotify_instances_of_one_run_do_not_starve_another(bench: Bench) -> None:
    hog = Bench(sandbox=bench.sandbox, root=bench.root / "hog")
    hog.workspace.mkdir(parents=True)
    source = """
        import ctypes, time
        libc = ctypes.CDLL(None, use_errno=True)
        held = [fd for fd in (libc.inotify_init() for _ in range(4096)) if fd >= 0]
        print("holding", len(held), flush=True)
        time.sleep(8)
    """
    thread, _ = in_thread(lambda: hog.run(source, timeout_s=30))
    time.sleep(3 + bench.startup_s / 2)
    result = bench.run(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print("inotify", "ok" if libc.inotify_init() >= 0 else ctypes.get_errno())
        """
    )
    thread.join(timeout=60)
    expect("inotify ok" in result.stdout_tail, "another run still gets inotify", result)


@probe
def the_hosts_cgroups_and_interfaces_are_out_of_view(bench: Bench) -> None:
    result = bench.run(
        """
        import os
        def folders(path):
            try:
                return [entry.name for entry in os.scandir(path) if entry.is_dir()]
            except OSError:
                return []
        groups = [f"{top}/{inner}" for top in folders("/sys/fs/cgroup")
                  for inner in folders(f"/sys/fs/cgroup/{top}")]
        print("groups", groups)
        print("interfaces", sorted(set(folders("/sys/class/net")) - {"lo"}))
        """
    )
    expect(result.status == "ok", "the probe runs", result)
    expect("groups []" in result.stdout_tail, "no cgroup of the host is visible", result)
    expect("interfaces []" in result.stdout_tail, "no host interface is visible", result)


@probe
def stopping_its_init_is_not_a_timeout(bench: Bench) -> None:
    source = """
        import os, signal
        for pid in (1, os.getppid()):
            for sent in (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN):
                try:
                    os.kill(pid, sent)
                except OSError as exc:
                    print("refused", pid, sent, exc.errno)
        print("done", flush=True)
    """
    started = time.monotonic()
    result = bench.run(source, timeout_s=8)
    expect(result.status != "timeout", "the run is not a timeout", result)
    expect(time.monotonic() - started < 6 + bench.startup_s, "it ends when it exits", result)


@probe
def an_oom_killed_child_is_noted(bench: Bench) -> None:
    source = """
        import os
        pid = os.fork()
        if pid == 0:
            block = b"x" * (2 * 1024**3)
            os._exit(0)
        print("child", os.waitpid(pid, 0)[1])
    """
    result = bench.run(source, memory_mb=256)
    expect("child 9" in result.stdout_tail, "the child was killed", result)
    expect("out of memory" in result.message, "the result says a process ran out", result)
