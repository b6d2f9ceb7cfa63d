"""Papers compile sealed: model-written LaTeX cannot read host files, write outside its build
folder or run shell commands, even though the host compiles as root."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scientist.config import WriteupConfig
from scientist.writeup.compile import compile_attempt

pytestmark = pytest.mark.latex

PRIVATE = "private-secret-81c2"
PUBLIC = "etc-secret-5d09"
SHELL = "4977442"
"""What `expr 4815100 + 162342` prints, were a shell command to run."""


@pytest.fixture
def host_files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A root-only file in a private folder, and a world-readable file under /etc."""
    private = tmp_path / "private" / "key.tex"
    private.parent.mkdir()
    private.write_text(PRIVATE + "\n")
    private.chmod(0o600)
    public = Path("/etc") / f"scientist-probe-{uuid.uuid4().hex[:8]}.tex"
    public.write_text(PUBLIC + "\n")
    public.chmod(0o644)
    try:
        yield private, public
    finally:
        public.unlink(missing_ok=True)


def _reading(private: Path, public: Path) -> str:
    return rf"""\documentclass{{article}}
\begin{{document}}
VISIBLE
\IfFileExists{{{private}}}{{\input{{{private}}}}}{{NOPRIVATE}}
\IfFileExists{{{public}}}{{\input{{{public}}}}}{{NOPUBLIC}}
\immediate\write18{{expr 4815100 + 162342 > shell.tex}}
\IfFileExists{{shell.tex}}{{\input{{shell.tex}}}}{{NOSHELL}}
\end{{document}}
"""


def _writing(written: Path) -> str:
    return rf"""\documentclass{{article}}
\begin{{document}}
\newwrite\leak
\immediate\openout\leak={written}
\immediate\write\leak{{written}}
\immediate\closeout\leak
\end{{document}}
"""


def test_a_paper_cannot_read_host_files_or_run_commands(
    tmp_path: Path, host_files: tuple[Path, Path]
) -> None:
    private, public = host_files
    sources = {"paper.tex": _reading(private, public)}
    attempt = compile_attempt(tmp_path / "paper", 1, sources, {}, WriteupConfig())
    pdf = attempt.directory / "build" / "paper.pdf"
    assert pdf.is_file(), attempt.message
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "VISIBLE" in text and "NOPRIVATE" in text and "NOPUBLIC" in text
    assert "NOSHELL" in text
    for secret in (PRIVATE, PUBLIC, SHELL):
        assert secret not in text
        assert secret not in attempt.log_path.read_text(errors="replace")
        assert secret not in (attempt.directory / "latexmk.out").read_text(errors="replace")
    assert os.stat(pdf).st_uid == os.geteuid()  # what comes back is the host's own copy


def test_a_paper_cannot_write_outside_its_build_folder(tmp_path: Path) -> None:
    written = tmp_path / "outside.tex"
    attempt = compile_attempt(
        tmp_path / "paper", 1, {"paper.tex": _writing(written)}, {}, WriteupConfig()
    )
    assert not written.exists()
    assert "can't write on file" in attempt.message
