"""The first process of a docker run, inside the container, before the experiment.

The container starts as root with no capability but SETUID and SETGID, under the engine's
init. This program drops to the run's own uid (leased like a local run's) and the sandbox
group, sets no_new_privs, loads the local backend's seccomp program on top of the engine's
profile and execs the experiment. The init stays root, so the run cannot stop or signal it.
The docker backend passes this file's source to the image's `python3 -c`; it uses only the
standard library.
"""

from __future__ import annotations

import ctypes
import os
import sys

PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS, SECCOMP_MODE_FILTER = 22, 38, 2
BPF_INSTRUCTION_BYTES = 8


class SockFprog(ctypes.Structure):
    _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def enter(uid: int, gid: int, program: bytes, argv: list[str]) -> None:
    """Become `uid`:`gid` with no groups, load `program` (BPF, may be empty), exec `argv`."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_new_privs")
    if program:
        code = ctypes.create_string_buffer(program, len(program))
        fprog = SockFprog(len(program) // BPF_INSTRUCTION_BYTES, ctypes.addressof(code))
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "loading the seccomp program")
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    enter(int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4:])
