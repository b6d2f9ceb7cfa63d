"""`scientist write <campaign>/ideas/<id>`: a fresh attempt at the writeup of one idea.

The command asks its model anew: the journal's recorded answers are for `resume`, which
re-executes a step cut short, not for a new attempt (which would replay the old answers and
fail the same way). Its calls are journaled and ledgered like any other; the earlier
attempts' files stay in `paper/attempts/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scientist.campaign import Campaign
from scientist.context import open_context
from scientist.errors import CampaignError, LatexError
from scientist.llm import LLM
from scientist.models import ExperimentRun, Idea
from scientist.records.runs import finished_run
from scientist.templates import Template
from scientist.writeup.paper import write_paper

console = Console(soft_wrap=True, highlight=False)


def _runs(idea_dir: Path, template: Template, idea_id: str) -> list[ExperimentRun]:
    runs = []
    for run_dir in sorted((idea_dir / "runs").glob("run_*")):
        index = int(run_dir.name.removeprefix("run_"))
        run = finished_run(run_dir, template, idea_id, index)
        if run is not None:
            runs.append(run)
    return sorted(runs, key=lambda run: run.index)


def ask_anew(llm: LLM) -> None:
    """This process sends its requests instead of replaying the journal's answers."""
    if llm.journal is not None:
        llm.journal.forget_answers()


def write_command(
    idea_dir: Annotated[Path, typer.Argument(help="an idea directory: <campaign>/ideas/<id>")],
    literature: Annotated[
        bool, typer.Option(help="search Semantic Scholar for citations (else cache only)")
    ] = False,
) -> None:
    """Write, compile and check the paper of one idea again, with new model calls."""
    idea_dir = idea_dir.resolve()
    if not (idea_dir / "idea.json").is_file():
        raise CampaignError(f"{idea_dir} has no idea.json", hint="pass <campaign>/ideas/<id>")
    campaign = Campaign.open(idea_dir.parent.parent)
    idea_id = idea_dir.name
    idea = Idea.model_validate_json((idea_dir / "idea.json").read_text(encoding="utf-8"))
    ctx = open_context(campaign, literature=literature)
    ask_anew(ctx.llm)
    try:
        runs = _runs(idea_dir, ctx.template, idea_id)
        if not runs:
            raise CampaignError(f"{idea_dir} has no finished runs to write about")
        baseline = finished_run(campaign.baseline_dir, ctx.template, "baseline", 0)
        paper = write_paper(ctx, idea_id=idea_id, idea=idea, baseline=baseline, runs=runs)
    finally:
        ctx.close()
    console.print(f"paper: {paper.pdf_path or paper.tex_path}")
    console.print(
        f"compiled: {paper.compiled}  pages: {paper.pages}  rounds: {paper.compile_rounds}  "
        f"unsourced numbers: {len(paper.unsourced_numbers)}  "
        f"skipped citations: {len(paper.skipped_citations)}"
    )
    for line in [*paper.unsourced_numbers, *paper.errors]:
        console.print(f"  - {line}")
    if not paper.compiled:
        raise LatexError(f"the paper did not compile: {paper.errors[-1] if paper.errors else ''}")


def register(app: typer.Typer) -> None:
    app.command("write")(write_command)
