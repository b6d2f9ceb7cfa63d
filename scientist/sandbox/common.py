"""Pieces every backend shares: the scrubbed environment, bounded output tails, capped copies."""

from __future__ import annotations

import fnmatch
import os
import shutil
import threading
from pathlib import Path
from typing import BinaryIO

from scientist.models import RunSpec

TAIL_BYTES = 64 * 1024
OUTPUT_CAP_BYTES = 512 * 1024 * 1024
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECRET_PATTERNS = ("*_API_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*", "*_KEY")


def is_secret(name: str) -> bool:
    """True for names that look like credentials; these never enter a sandbox."""
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in SECRET_PATTERNS)


def sandbox_env(
    spec: RunSpec, *, home: str, tmpdir: str, path: str = SANDBOX_PATH
) -> dict[str, str]:
    """The run's environment, built from nothing: minimal basics, allowlisted host variables,
    the spec's explicit variables; anything that looks like a secret is dropped."""
    threads = str(max(1, int(spec.cpus)))
    env = {
        "PATH": path,
        "HOME": home,
        "TMPDIR": tmpdir,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    for name in spec.env_allowlist:
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(spec.env)
    return {name: value for name, value in env.items() if not is_secret(name)}


class TailBuffer:
    """Keeps only the last `cap` bytes of a stream, so huge output is never held whole."""

    def __init__(self, cap: int = TAIL_BYTES) -> None:
        self.cap = cap
        self.total = 0
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._data += chunk[-self.cap :]
        if len(self._data) > self.cap:
            del self._data[: len(self._data) - self.cap]

    def text(self) -> str:
        text = self._data.decode("utf-8", errors="replace")
        if self.total > self.cap:
            return f"[... {self.total - self.cap} earlier bytes dropped ...]\n{text}"
        return text


def drain(stream: BinaryIO, tail: TailBuffer) -> threading.Thread:
    """Read `stream` to its end in a daemon thread, feeding `tail` chunk by chunk."""

    def pump() -> None:
        with stream:
            while chunk := stream.read1(TAIL_BYTES):
                tail.feed(chunk)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def copy_capped(source: Path, target: Path, cap_bytes: int = OUTPUT_CAP_BYTES) -> str:
    """Copy the regular files and folders under `source` into `target`, never following
    symlinks, stopping at `cap_bytes` in all. Returns a note when something was left out."""
    copied = 0
    skipped: list[str] = []
    target.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(source, followlinks=False):
        relative = Path(root).relative_to(source)
        for name in dirs:
            if not (Path(root) / name).is_symlink():
                (target / relative / name).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                skipped.append(f"{relative / name} (not a regular file)")
                continue
            size = path.stat().st_size
            if copied + size > cap_bytes:
                skipped.append(f"{relative / name} (output cap {cap_bytes} bytes)")
                continue
            shutil.copyfile(path, target / relative / name)
            copied += size
    if not skipped:
        return ""
    shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
    return f"outputs left out: {shown}"


def memory_message(stderr: str) -> bool:
    """True when the stderr tail shows an allocation failure."""
    markers = ("MemoryError", "Cannot allocate memory", "can't allocate memory", "bad_alloc")
    return any(marker in stderr for marker in markers)
