"""The seccomp filter of local runs, compiled by libseccomp.

The program is built by libseccomp's own Python bindings (Debian's `python3-seccomp`),
which exist for the system interpreter only, so it is compiled once per process by
`/usr/bin/python3` and handed to bubblewrap (`--seccomp FD`) for every run.

It refuses what a run never needs and what crosses its walls: tracing other processes,
new namespaces, mounts, kernel keyrings, eBPF, perf events, userfaultfd, io_uring, module
and kexec loading, clock and swap changes (EPERM); the host-wide pool of AIO events
(`io_setup` and the other AIO calls, ENOSYS, so libraries fall back to threads); sockets
of the families that reach past the network namespace or the kernel's crypto (AF_VSOCK,
AF_PACKET, AF_ALG) always, and AF_INET/AF_INET6 when the run has no network
(EAFNOSUPPORT): a run without network gets AF_UNIX sockets only, so it cannot queue
socket buffers on its own loopback either. Everything else is allowed: this is a denylist
on top of the namespaces, not the only wall. The docker backend loads the same program
inside the container, on top of the engine's own profile.
"""

from __future__ import annotations

import json
import socket
import subprocess
from functools import cache

SYSTEM_PYTHON = "/usr/bin/python3"
DENIED = (
    *("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "unshare", "setns"),
    *("mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig"),
    *("fsmount", "fspick", "mount_setattr", "bpf", "perf_event_open", "userfaultfd"),
    *("keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module"),
    *("finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl"),
    *("syslog", "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime"),
    *("adjtimex", "open_by_handle_at", "name_to_handle_at", "lookup_dcookie"),
    *("io_uring_setup", "io_uring_enter", "io_uring_register", "vhangup", "uselib"),
)
AIO = ("io_setup", "io_submit", "io_getevents", "io_pgetevents", "io_cancel", "io_destroy")
ALWAYS_REFUSED_FAMILIES = (socket.AF_VSOCK, socket.AF_PACKET, socket.AF_ALG)
NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)
NAMESPACE_FLAGS = 0x7E020080  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME

COMPILER = f"""
import errno, json, sys, seccomp
wanted = json.loads(sys.argv[1])
rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for names, refusal in ((wanted["denied"], errno.EPERM), (wanted["absent"], errno.ENOSYS)):
    for name in names:
        try:
            rules.add_rule(seccomp.ERRNO(refusal), name)
        except (RuntimeError, ValueError):
            pass
for family in wanted["families"]:
    rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, family))
rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
for flag in (1 << bit for bit in range(32) if {NAMESPACE_FLAGS} >> bit & 1):
    refused = seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag)
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", refused)
rules.export_bpf(sys.stdout.buffer)
"""


@cache
def seccomp_program(network: bool) -> tuple[bytes | None, str]:
    """(the compiled BPF program for a run with or without `network`, '') or (None, why
    there is none here)."""
    families = list(ALWAYS_REFUSED_FAMILIES) + ([] if network else list(NETWORK_FAMILIES))
    wanted = json.dumps({"denied": DENIED, "absent": AIO, "families": families})
    try:
        compiled = subprocess.run(
            [SYSTEM_PYTHON, "-c", COMPILER, wanted], capture_output=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"libseccomp's Python bindings did not compile it ({type(exc).__name__})"
        return None, f"{reason}: install python3-seccomp"
    return compiled.stdout, ""
