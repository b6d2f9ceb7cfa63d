"""What every probe gets: a sandbox, a private folder, a small workspace and helpers."""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scientist.models import RunResult, RunSpec
from scientist.sandbox.base import Sandbox

Probe = Callable[["Bench"], None]
PROBES: dict[str, Probe] = {}
FORK_BOMB = """
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""


class ProbeFailed(AssertionError):
    """A backend does not hold what the suite checks."""


def probe(function: Probe) -> Probe:
    """Register `function` as a probe under its name."""
    PROBES[function.__name__] = function
    return function


def expect(condition: object, message: str, result: RunResult | None = None) -> None:
    """Fail the probe with `message` (and the run's result) unless `condition` holds."""
    if not condition:
        raise ProbeFailed(f"{message}\n{result.model_dump_json(indent=2)}" if result else message)


@dataclass
class Bench:
    """A probe's sandbox and its private folder `root` (the workspace lives in it)."""

    sandbox: Sandbox
    root: Path

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def startup_s(self) -> float:
        """Allowance for starting the run (a container takes seconds)."""
        return 10.0 if self.sandbox.name != "local" else 2.0

    def spec(self, source: str, **fields: Any) -> RunSpec:
        """A spec running `source` as probe.py in the workspace."""
        (self.workspace / "probe.py").write_text(textwrap.dedent(source))
        return RunSpec(workspace=self.workspace, argv=["python", "probe.py"], **fields)

    def run(self, source: str, **fields: Any) -> RunResult:
        fields.setdefault("timeout_s", 60)
        return self.sandbox.run(self.spec(source, **fields))


def write_workspace(folder: Path) -> Path:
    """A small experiment folder: `main.py` writes a result into out/ and prints a line."""
    folder.mkdir(parents=True)
    (folder / "main.py").write_text(
        "import json, os, sys\n"
        "os.makedirs('out', exist_ok=True)\n"
        "json.dump({'argv': sys.argv[1:]}, open('out/result.json', 'w'))\n"
        "open('input.txt', 'a').write('changed inside')\n"
        "print('experiment done')\n"
    )
    (folder / "input.txt").write_text("original")
    return folder


def run_probe(name: str, sandbox: Sandbox, root: Path) -> None:
    """Run probe `name` against `sandbox`, using the empty folder `root` for its files."""
    bench = Bench(sandbox=sandbox, root=root)
    write_workspace(bench.workspace)
    PROBES[name](bench)


@contextlib.contextmanager
def host_environment(**values: str) -> Iterator[None]:
    """Set host environment variables for the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def host_processes_with(token: str) -> list[int]:
    """Host pids whose command line or environment holds `token`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for name in ("cmdline", "environ"):
            with contextlib.suppress(OSError):
                if token.encode() in (entry / name).read_bytes():
                    found.append(int(entry.name))
                    break
    return found
