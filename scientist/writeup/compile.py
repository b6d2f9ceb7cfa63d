"""Compile a paper with latexmk in its own attempt directory; promote only good PDFs.

Each attempt writes its sources into `paper/attempts/attempt_<n>/` and builds there, on the
host or through the sandbox. A PDF replaces `paper/paper.pdf` atomically only when the
attempt had no fatal error, so a failed compile never touches the last good PDF, and every
attempt's log stays on disk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from scientist.config import WriteupConfig
from scientist.errors import LatexError
from scientist.models import RunSpec
from scientist.sandbox.collect import OutputLimits, collect_outputs
from scientist.sandbox.common import is_secret, run_scratch
from scientist.sandbox.uids import SANDBOX_GID, leased_uid
from scientist.writeup.latex_log import LatexIssue, chktex_warnings, parse_log

if TYPE_CHECKING:
    from scientist.sandbox import Sandbox

SEALED_TEX = {"openin_any": "p", "openout_any": "p", "shell_escape": "f"}
"""kpathsea's settings for a paper's TeX: read and write only below the build folder (no
absolute paths, no `..`, no dot files), and no `\\write18` shell commands."""
LATEXMK = ["latexmk", "-pdf", "-interaction=nonstopmode", "-file-line-error", "-outdir=build"]
MAIN = "paper.tex"


class CompileAttempt(BaseModel):
    number: int
    directory: Path
    ok: bool
    issues: list[LatexIssue] = Field(default_factory=list)
    chktex: list[str] = Field(default_factory=list)
    pages: int | None = None
    duration_s: float = 0.0
    message: str = ""

    @property
    def log_path(self) -> Path:
        return self.directory / "build" / "paper.log"


def _run_host(directory: Path, timeout_s: float) -> str:
    """Run latexmk on the paper in `directory`, sealed: TeX may open files only below the
    folder it builds in, never writes outside it and runs no shell command; as root it also
    runs as an unprivileged uid of its own, on a copy of `directory`, and only its `build/`
    comes back (collected without following links)."""
    if shutil.which("latexmk") is None:
        raise LatexError("latexmk is not installed", hint="install TeX Live (latexmk, pdflatex)")
    if os.geteuid() != 0:
        return _latexmk(directory, timeout_s, uid=None)
    spec = RunSpec(workspace=directory, argv=[*LATEXMK, MAIN], timeout_s=timeout_s)
    with leased_uid() as uid, run_scratch(spec, uid, SANDBOX_GID) as disk:
        workspace = disk.workspace
        for folder in workspace.parents[:2]:  # the disk and the private folder holding it
            folder.chmod(0o711)  # the uid may pass through to its own copy, no further
        output = _latexmk(workspace, timeout_s, uid=uid)
        built = workspace / "build"
        if built.is_symlink() or not built.is_dir():
            return output
        note = collect_outputs(workspace, "build", directory / "build", OutputLimits())
    return f"{output}\n{note}" if note else output


def _latexmk(directory: Path, timeout_s: float, *, uid: int | None) -> str:
    """latexmk in `directory` with TeX sealed (as `uid` when given), without the host's
    credentials in its environment; kill its whole process group on timeout."""
    host = {name: value for name, value in os.environ.items() if not is_secret(name)}
    env = {**host, **SEALED_TEX, "HOME": str(directory)}
    with subprocess.Popen(
        [*LATEXMK, MAIN],
        cwd=directory,
        env=env,
        user=uid,
        group=None if uid is None else SANDBOX_GID,
        extra_groups=None if uid is None else [],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        encoding="utf-8",
        errors="replace",  # TeX writes raw bytes of the input; a bad one must not crash us
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return f"latexmk passed its time limit of {timeout_s:.0f}s"
    return output


def _run_sandbox(directory: Path, timeout_s: float, sandbox: Sandbox) -> str:
    spec = RunSpec(
        workspace=directory,
        argv=[*LATEXMK, MAIN],
        timeout_s=timeout_s,
        output_subdir="build",
        output_dir=directory / "build",
        labels={"scientist.step": "write"},
    )
    result = sandbox.run(spec)
    return f"{result.status}: {result.message}\n{result.stdout_tail}\n{result.stderr_tail}"


def count_pages(pdf: Path) -> int | None:
    try:
        return len(PdfReader(pdf).pages)
    except (OSError, PdfReadError, ValueError):
        return None


def promote(pdf: Path, target: Path) -> None:
    """Copy `pdf` next to `target`, then rename over it (readers never see half a file)."""
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copy2(pdf, temporary)
    os.replace(temporary, target)


def compile_attempt(
    paper_dir: Path,
    number: int,
    sources: dict[str, str],
    assets: dict[str, Path],
    config: WriteupConfig,
    sandbox: Sandbox | None = None,
) -> CompileAttempt:
    """Build `sources` (name -> text) plus `assets` (name -> file) in attempt `number`."""
    directory = paper_dir / "attempts" / f"attempt_{number:02d}"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, text in sources.items():
        (directory / name).write_text(text, encoding="utf-8")
    for name, source in assets.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, directory / name)
    started = time.monotonic()
    if config.compile_in == "sandbox" and sandbox is not None:
        output = _run_sandbox(directory, config.compile_timeout_s, sandbox)
    else:
        output = _run_host(directory, config.compile_timeout_s)
    duration = time.monotonic() - started
    (directory / "latexmk.out").write_text(output, encoding="utf-8")
    log = directory / "build" / "paper.log"
    issues = parse_log(log.read_text(encoding="utf-8", errors="replace")) if log.exists() else []
    pdf = directory / "build" / "paper.pdf"
    pages = count_pages(pdf) if pdf.exists() else None
    fatal = [issue for issue in issues if issue.fatal]
    ok = bool(pages) and not fatal
    tail = output.strip().splitlines() or ["no PDF produced"]
    message = "" if ok else str(fatal[0]) if fatal else tail[-1]
    attempt = CompileAttempt(
        number=number,
        directory=directory,
        ok=ok,
        issues=issues,
        chktex=chktex_warnings(directory / MAIN),
        pages=pages,
        duration_s=round(duration, 3),
        message=message,
    )
    (directory / "attempt.json").write_text(attempt.model_dump_json(indent=2), encoding="utf-8")
    if ok:
        promote(pdf, paper_dir / "paper.pdf")
    return attempt
