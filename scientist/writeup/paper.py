"""`write_paper`: evidence, figures, citations, prose (with a model: drafts, figure review,
critique round), assembly, compile + fix loop (`repair`), verify."""

from __future__ import annotations

import shutil
from pathlib import Path

from scientist.atomic_files import atomic_write_json, atomic_write_text
from scientist.context import Context
from scientist.errors import LatexError
from scientist.experiments.figures import make_figures
from scientist.models import ExperimentRun, FigureCheck, Idea, Paper
from scientist.records.figures import Figure
from scientist.records.runs import run_diff
from scientist.report import run_size
from scientist.writeup import llm_prose, offline_prose
from scientist.writeup.citations import gather_bibliography
from scientist.writeup.context import SECTIONS, PaperContext
from scientist.writeup.document import STYLE, build_document
from scientist.writeup.evidence import build_evidence
from scientist.writeup.figure_choice import (
    SUPPLEMENTARY,
    choose_figures,
    missing_main_figures,
    relevance_terms,
)
from scientist.writeup.figure_review import review_figures
from scientist.writeup.provenance import provenance_sentence
from scientist.writeup.repair import Compiled, compile_paper
from scientist.writeup.verify import find_unsourced

STYLE_FILE = Path(__file__).resolve().parent / f"{STYLE}.sty"


def _keep_supplementary(folder: Path, figures: list[Figure]) -> None:
    """Copy the figures left out of the body beside the paper (replacing an older set)."""
    shutil.rmtree(folder, ignore_errors=True)
    if figures:
        folder.mkdir(parents=True)
    for figure in figures:
        shutil.copy2(figure.source, folder / figure.source.name)


def _with_provenance(sections: dict[str, str], runs: list[ExperimentRun]) -> dict[str, str]:
    """`sections` with the sentence on where the numbers come from ending the Results."""
    provenance = provenance_sentence(runs)
    return {**sections, "results": f"{sections['results']}\n\n{provenance}".rstrip()}


def write_paper(
    ctx: Context,
    *,
    idea_id: str,
    idea: Idea,
    baseline: ExperimentRun | None,
    runs: list[ExperimentRun],
    control: str | None = None,
) -> Paper:
    """Write, compile and check the paper for one idea into `campaign.paper_dir(idea_id)`,
    with the `write` role's model (or the offline prose when it has none). `baseline` is the
    run the idea is measured against, its control; `control` says what that is."""
    campaign, template, sandbox = ctx.campaign, ctx.template, ctx.sandbox
    config, model, literature = ctx.config.writeup, ctx.model("write"), ctx.literature
    paper_dir = campaign.paper_dir(idea_id)
    paper_dir.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    manifest = template.manifest
    evidence = build_evidence(
        manifest.metric.name,
        manifest.metric.goal,
        baseline,
        runs,
        deterministic=template.deterministic,
    )
    queries = [idea.title, manifest.title]
    bibliography = gather_bibliography(template.root / "references.bib", queries, literature)
    figures_dir = campaign.idea_dir(idea_id) / "figures"
    drawn, plot_error = make_figures(template, baseline, runs, sandbox, figures_dir)
    if plot_error:
        errors.append(plot_error)
    figures, supplementary = choose_figures(
        drawn,
        main=manifest.main_figures,
        limit=config.max_figures,
        terms=relevance_terms(manifest.metric.name, idea),
    )
    if drawn and manifest.main_figures:
        missing = missing_main_figures(drawn, manifest.main_figures)
        if missing:
            errors.append(f"main figures not drawn by {manifest.plot}: {', '.join(missing)}")
    paper = PaperContext(
        idea=idea,
        template=template,
        evidence=evidence,
        bibliography=bibliography,
        baseline=baseline,
        runs=runs,
        figures=figures,
        supplementary=supplementary,
        diff=run_diff(evidence.best) if evidence.best is not None else "",
        control=control or "the campaign baseline",
        size=run_size(ctx.config, ctx.template),
    )
    figure_checks: list[FigureCheck] = []
    written = None
    if model is not None:
        drafts = llm_prose.draft_sections(paper, model)
        review = review_figures(paper, drafts, ctx.vision_model("write"))
        paper = review.revised(paper)
        critiqued = llm_prose.critique_sections(paper, model, drafts, review.critique_notes(drafts))
        revised = llm_prose.fix_unsourced(paper, model, critiqued)
        written = review.settle(paper, llm_prose.fix_overclaims(paper, model, revised))
        figure_checks, errors = review.records(), [*errors, *review.errors]
    offline = _with_provenance(offline_prose.write_sections(paper), runs)
    sections = offline if written is None else _with_provenance(written, runs)
    sources = {"results.tex": evidence.results_tex(), "refs.bib": bibliography.render()}
    assets = {f"{STYLE}.sty": STYLE_FILE}
    assets |= {figure.path: figure.source for figure in paper.figures}
    _keep_supplementary(paper_dir / SUPPLEMENTARY, paper.supplementary)
    for name, text in sources.items():
        atomic_write_text(paper_dir / name, text)
    for name, source in assets.items():
        (paper_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, paper_dir / name)

    compiled = Compiled(build_document(paper, sections, two_column=config.two_column))
    try:
        compiled = compile_paper(
            paper_dir, paper, compiled.tex, offline, sources, assets, config, sandbox, model
        )
    except LatexError as exc:
        errors.append(str(exc))
    tex, attempts = compiled.tex, compiled.attempts
    atomic_write_text(paper_dir / "paper.tex", tex)
    titles = {key: title for key, title, _ in SECTIONS}
    errors += [
        f"{titles[key]}: the model's text did not compile, its offline prose replaced it"
        for key in compiled.fallback
    ]

    last = attempts[-1] if attempts else None
    if last is not None and not last.ok:
        errors.append(f"compile failed after {len(attempts)} attempt(s): {last.message}")
    good = [a for a in attempts if a.ok]
    pages = good[-1].pages if good else None
    if pages is not None and pages > config.page_limit:
        errors.append(f"{pages} pages exceed the page limit of {config.page_limit}")
    unsourced = find_unsourced(tex, sources=paper.sources(), years=bibliography.years())
    pdf = paper_dir / "paper.pdf"
    record = Paper(
        idea_id=idea_id,
        tex_path=paper_dir / "paper.tex",
        pdf_path=pdf if pdf.exists() else None,
        compiled=bool(good),
        pages=pages,
        unsourced_numbers=[str(item) for item in unsourced],
        skipped_citations=[
            *bibliography.skipped,
            *(f"{key}: undefined, removed" for key in compiled.dropped),
        ],
        compile_rounds=len(attempts),
        errors=errors,
        figure_review=figure_checks,
    )
    for folder in [paper_dir, *(attempt.directory for attempt in attempts[-1:])]:
        atomic_write_json(folder / "paper.json", campaign.portable(record))
    return record
