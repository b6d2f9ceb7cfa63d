"""The offline paper end to end: real plot.py in the local sandbox, real latexmk, pypdf."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from scientist.campaign import Campaign
from scientist.config import WriteupConfig
from scientist.models import ExperimentRun, Paper
from scientist.sandbox import Sandbox
from scientist.templates import Template
from scientist.writeup import write_paper
from scientist.writeup.compile import compile_attempt
from scientist.writeup.repair import compile_with_fixes
from tests.conftest import stage_context
from tests.writeup.conftest import IDEA

pytestmark = pytest.mark.latex

MERGE_BIB = Path(__file__).resolve().parents[2] / "templates" / "merge" / "references.bib"


@pytest.fixture(scope="module")
def pack_with_bib(toy_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("pack") / "toy"
    shutil.copytree(toy_template.root, root)
    shutil.copy(MERGE_BIB, root / "references.bib")
    return toy_template.model_copy(update={"root": root})


@pytest.fixture(scope="module")
def offline_paper(
    toy_campaign: Campaign,
    pack_with_bib: Template,
    toy_runs: tuple[ExperimentRun, list[ExperimentRun]],
    sandbox: Sandbox,
) -> Paper:
    baseline, runs = toy_runs
    ctx = stage_context(
        toy_campaign, pack_with_bib, sandbox=sandbox, writeup=WriteupConfig(fix_rounds=2)
    )
    return write_paper(ctx, idea_id="higher_lr", idea=IDEA, baseline=baseline, runs=runs)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_offline_paper_compiles_with_the_measured_values(offline_paper: Paper) -> None:
    assert offline_paper.compiled and offline_paper.errors == []
    assert offline_paper.pdf_path is not None and offline_paper.pages >= 2
    text = pdf_text(offline_paper.pdf_path)
    # means and sample stds of final_info.json, formatted as the macros print them
    for value in ("0.512", "0.730", "0.663", "0.015", "+0.218"):
        assert value in text
    assert "scientist" in text and "Abstract" in text


def test_offline_paper_has_table_figure_and_bibliography(offline_paper: Paper) -> None:
    paper_dir = offline_paper.tex_path.parent
    tex = offline_paper.tex_path.read_text()
    assert "\\begin{tabular}" in tex and "\\toprule" in tex
    assert "\\includegraphics" in tex and (paper_dir / "figures" / "score.pdf").is_file()
    assert "\\citet{yadav2023ties}" in tex
    text = pdf_text(offline_paper.pdf_path)
    assert "References" in text and "TIES-Merging" in text
    results = (paper_dir / "results.tex").read_text()
    assert "\\newcommand{\\resBaselineScoreMean}{0.512}" in results
    assert "\\newcommand{\\resRunOneScoreDelta}{+0.218}" in results


def test_every_number_in_the_offline_paper_is_sourced(
    offline_paper: Paper, toy_campaign: Campaign
) -> None:
    assert offline_paper.unsourced_numbers == []
    recorded = json.loads((offline_paper.tex_path.parent / "paper.json").read_text())
    assert recorded["tex_path"] == "ideas/higher_lr/paper/paper.tex"  # relative to the campaign
    assert toy_campaign.localized(Paper.model_validate(recorded)) == offline_paper


def test_planted_errors_are_fixed_by_the_loop(
    offline_paper: Paper, writeup_config: WriteupConfig, tmp_path: Path
) -> None:
    source_dir = offline_paper.tex_path.parent
    tex = offline_paper.tex_path.read_text()
    broken = tex.replace(
        "\\subsection{This idea}",
        "\\subsection{This idea}\nA stray \\undefinedmacro{}, a key \\citep{nosuchkey} & 5%.",
    )
    sources = {name: (source_dir / name).read_text() for name in ("results.tex", "refs.bib")}
    assets = {"scientist.sty": source_dir / "scientist.sty"}
    assets |= {f"figures/{p.name}": p for p in (source_dir / "figures").iterdir()}
    compiled = compile_with_fixes(
        tmp_path, broken, sources, assets, writeup_config, sandbox=None, model=None
    )
    fixed, attempts, dropped = compiled.tex, compiled.attempts, compiled.dropped
    kinds = {issue.kind for issue in attempts[0].issues}
    assert not attempts[0].ok and "undefined_control_sequence" in kinds
    assert attempts[-1].ok and (tmp_path / "paper.pdf").is_file()
    assert "\\undefinedmacro" not in fixed and "nosuchkey" not in fixed
    assert "\\& 5\\%" in fixed
    assert dropped == ["nosuchkey"]


def test_a_failing_compile_keeps_the_last_good_pdf(
    offline_paper: Paper, writeup_config: WriteupConfig
) -> None:
    paper_dir = offline_paper.tex_path.parent
    good = (paper_dir / "paper.pdf").read_bytes()
    tex = offline_paper.tex_path.read_text()
    broken_line = tex.count("\n", 0, tex.index("\\subsection{Baseline}")) + 2
    broken = tex.replace("\\subsection{Baseline}", "\\subsection{Baseline}\n\\nosuchcommand")
    sources = {name: (paper_dir / name).read_text() for name in ("results.tex", "refs.bib")}
    attempt = compile_attempt(
        paper_dir,
        99,
        {**sources, "paper.tex": broken},
        {"scientist.sty": paper_dir / "scientist.sty"},
        writeup_config,
    )
    assert not attempt.ok
    [issue] = [i for i in attempt.issues if i.kind == "undefined_control_sequence"]
    assert issue.line == broken_line and issue.token == "\\nosuchcommand"
    assert (paper_dir / "paper.pdf").read_bytes() == good
    assert attempt.log_path.is_file() and (attempt.directory / "attempt.json").is_file()
    assert (paper_dir / "attempts" / "attempt_01" / "attempt.json").is_file()
