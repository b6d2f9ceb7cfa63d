"""Fixtures for the review tests: runs with per-seed values, papers, a campaign, a PDF."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.manifest import Metric, TemplateManifest
from scientist.models import ExperimentRun, FinalInfo, MetricSummary, Paper, RunResult, RunStatus
from scientist.templates import Template
from tests.review.latex import compile_tex

METRIC = "accuracy"

MakeRun = Callable[..., ExperimentRun]


@pytest.fixture
def make_run(tmp_path: Path) -> MakeRun:
    """`make_run(index, values, status="ok", overrides=None)`: a run with per-seed values."""

    def make(
        index: int,
        values: list[float] | None,
        *,
        status: RunStatus = "ok",
        overrides: dict | None = None,
        idea_id: str = "idea_a",
    ) -> ExperimentRun:
        info = None
        if values is not None:
            mean = sum(values) / len(values)
            info = FinalInfo(
                metrics={METRIC: MetricSummary(mean=mean, values=values)},
                seeds=list(range(len(values))),
                runtime_s=1.0,
            )
        return ExperimentRun(
            idea_id=idea_id,
            index=index,
            result=RunResult(exit_code=0 if status == "ok" else 1, status=status),
            final_info=info,
            run_dir=tmp_path / idea_id / f"run_{index}",
            overrides=overrides or {},
        )

    return make


@pytest.fixture
def baseline(make_run: MakeRun) -> ExperimentRun:
    return make_run(0, [0.70, 0.71, 0.69], idea_id="baseline")


def write_tex(folder: Path, citations: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cites = "".join(rf"\citep{{{key}}} " for key in citations)
    tex = folder / "paper.tex"
    tex.write_text(rf"\section{{Introduction}} Prior work {cites}matters.", encoding="utf-8")
    return tex


@pytest.fixture
def make_paper(tmp_path: Path) -> Callable[..., Paper]:
    def make(
        *,
        compiled: bool = True,
        unsourced: list[str] | None = None,
        pages: int = 4,
        citations: tuple[str, ...] = ("akiba2024", "yadav2023"),
        pdf_path: Path | None = None,
    ) -> Paper:
        return Paper(
            idea_id="idea_a",
            tex_path=write_tex(tmp_path / "paper", list(citations)),
            pdf_path=pdf_path,
            compiled=compiled,
            pages=pages,
            unsourced_numbers=unsourced or [],
            errors=[] if compiled else ["Undefined control sequence \\foo"],
        )

    return make


@pytest.fixture
def template(tmp_path: Path) -> Template:
    manifest = TemplateManifest(
        name="toy",
        title="Toy pack",
        description="a pack for review tests",
        metric=Metric(name=METRIC, goal="maximize"),
        search_space={"lr": [0.1, 0.01]},
    )
    return Template(root=tmp_path / "toy", manifest=manifest)


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return Campaign.create(tmp_path / "campaign", CampaignConfig(template="toy"))


PAPER_TEX = r"""
\documentclass{article}
\begin{document}
\title{Evolved merge weights transfer a skill across alphabets}
\maketitle
\section{Results}
We compare against the baseline over 3 seeds. The evolved merge reaches
$0.89 \pm 0.02$ exact match against $0.83 \pm 0.02$ for task arithmetic.
\begin{table}[h]\centering
\begin{tabular}{lr} method & accuracy \\ evolved & 0.89 \\ baseline & 0.83 \\ \end{tabular}
\caption{Exact match on the target task.}
\end{table}
\section*{References}
[1] T. Akiba et al. Evolutionary optimization of model merging recipes. 2024.
\end{document}
"""


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-page PDF compiled with the real pdflatex."""
    tex = tmp_path_factory.mktemp("pdf") / "paper.tex"
    tex.write_text(PAPER_TEX, encoding="utf-8")
    return compile_tex(tex)
