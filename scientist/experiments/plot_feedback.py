"""Plot feedback: what a successful run's figures show, told to the code model in its next
prompt so that it can fix a blank, empty or mislabelled plot.

The version's own plot.py draws the baseline and the run, in the sandbox, into
`runs/run_<k>/figures/` (host-chosen, beside the sealed run; the run's `outputs/` are read
only by plot.py, inside the sandbox). Mechanical checks always run: a figure of one flat
colour is blank, and a plot.py that fails is reported. When `ctx.vision_model("code")` has
a model, at most `MAX_SHOWN` of the other figures go to it with the idea, and its findings
join the mechanical ones (a blank figure stays blank). A model that fails leaves a note,
never a failed idea; a budget stop propagates. The feedback is stored once, as
`runs/run_<k>/plot_feedback.json`, and a resumed loop reads it instead of asking again.
Only a run the loop goes on from is drawn (the linear loop's next prompt, a tree search's
child of that run's node); the loop's last run has no prompt after it and is not: the cost
is one plot.py run, and one vision call, per successful run the loop continues from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, ValidationError

from scientist.atomic_files import atomic_write_text
from scientist.context import Context
from scientist.errors import LLMError, ScientistError
from scientist.experiments.figures import make_figures
from scientist.llm import Message, RoleModel
from scientist.models import ArchiveEntry, ExperimentRun, Record
from scientist.prompts import render_prompt
from scientist.records.figures import Figure, figure_image, is_blank, pixel_variance

FEEDBACK_FILE = "plot_feedback.json"
FIGURES_FOLDER = "figures"
MAX_SHOWN = 4
"""Figures shown to the vision model per run (each at most 1024 px on its longer side)."""


class FigureFindings(Record):
    """What is known about one figure: `blank` from its pixels; `degenerate` (no data, a
    flat line), `mislabelled` (axes, legend) and `supports_idea` from a model that looked
    (`supports_idea` is None when none did); `notes` says what to fix."""

    figure: str
    pixel_variance: float | None = None
    blank: bool = False
    degenerate: bool = False
    mislabelled: bool = False
    supports_idea: bool | None = None
    notes: str = ""


class PlotFeedback(Record):
    """`plot_feedback.json`: the findings per figure, plot.py's failure (or ''), who looked
    at the figures (or why no model did), and a short summary."""

    run: int
    figures: list[FigureFindings]
    plot_error: str = ""
    looked: str
    summary: str


class FigureVerdict(BaseModel):
    """The vision model's answer about one figure."""

    figure: str
    degenerate: bool
    mislabelled: bool
    supports_idea: bool
    notes: str


class FigureReview(BaseModel):
    """The vision model's answer: a verdict per figure shown, and a summary."""

    figures: list[FigureVerdict]
    summary: str


def plot_feedback_request(
    ctx: Context, entry: ArchiveEntry, baseline: ExperimentRun, run: ExperimentRun, code_dir: Path
) -> str:
    """The part of the next code prompt about `run`'s figures, drawn by the plot.py in
    `code_dir` (the version that ran); '' when plot feedback is switched off."""
    if not ctx.config.plot_feedback:
        return ""
    feedback = plot_feedback(ctx, entry, baseline, run, code_dir)
    findings = "\n".join(f"- {finding_line(finding)}" for finding in feedback.figures)
    return "\n\n" + render_prompt(
        "code/plot_feedback",
        run=run.index,
        findings=findings or "- no figure was drawn",
        summary=feedback.summary,
    )


def plot_feedback(
    ctx: Context, entry: ArchiveEntry, baseline: ExperimentRun, run: ExperimentRun, code_dir: Path
) -> PlotFeedback:
    """The stored feedback on `run`'s figures, or it is made now (drawn, checked, looked
    at) and stored."""
    path = run.run_dir / FEEDBACK_FILE
    stored = _stored(path)
    if stored is not None:
        return stored
    figures_dir = run.run_dir / FIGURES_FOLDER
    shutil.rmtree(figures_dir, ignore_errors=True)  # half drawn before an interruption
    version = ctx.template.model_copy(update={"root": code_dir})
    figures, plot_error = make_figures(version, baseline, [run], ctx.sandbox, figures_dir)
    findings = [mechanical_findings(figure.source) for figure in figures]
    if plot_error:
        summary = plot_error
    elif not figures:
        plot_error = summary = "plot.py drew no figures"
    else:
        summary = mechanical_summary(findings)
    model = ctx.vision_model("code")
    shown = [f for f, found in zip(figures, findings, strict=True) if _showable(found)]
    shown = shown[:MAX_SHOWN]
    if model is None:
        looked = "no model looked: the code role has no vision model"
    elif not shown:
        looked = "no model looked: no figure has anything drawn"
    else:
        request = vision_request(ctx, entry, baseline, run, shown)
        looked, review = look_at_figures(model, request, shown)
        if review is not None:
            findings = merged(findings, review, shown)
            summary = f"{summary} {review.summary}".strip()
    feedback = PlotFeedback(
        run=run.index, figures=findings, plot_error=plot_error, looked=looked, summary=summary
    )
    atomic_write_text(path, feedback.model_dump_json(indent=2))
    return feedback


def _stored(path: Path) -> PlotFeedback | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return PlotFeedback.model_validate_json(path.read_bytes())
    except ValidationError:
        return None


def mechanical_findings(path: Path) -> FigureFindings:
    """What a figure's pixels tell: blank when it is one flat colour."""
    try:
        variance, blank = pixel_variance(path), is_blank(path)
    except (OSError, ScientistError) as exc:
        return FigureFindings(figure=path.name, notes=f"cannot be read as an image: {exc}")
    return FigureFindings(figure=path.name, pixel_variance=variance, blank=blank)


def _showable(finding: FigureFindings) -> bool:
    return finding.pixel_variance is not None and not finding.blank


def mechanical_summary(findings: list[FigureFindings]) -> str:
    blank = [finding.figure for finding in findings if finding.blank]
    if not blank:
        return f"{len(findings)} figure(s) drawn, none blank."
    return f"{len(blank)} of {len(findings)} figure(s) blank: {', '.join(blank)}."


def vision_request(
    ctx: Context,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    run: ExperimentRun,
    figures: list[Figure],
) -> str:
    """What the vision model is asked about `figures` of `run`, with the idea they test."""
    idea, metric = entry.idea, ctx.template.metric
    return render_prompt(
        "code/look_at_figures",
        count=len(figures),
        run=run.index,
        names=", ".join(figure.source.name for figure in figures),
        title=idea.title,
        hypothesis=idea.hypothesis,
        plan=idea.plan,
        metric=metric.name,
        goal=metric.goal,
        baseline_metric=baseline.metric(metric.name),
        run_metric=run.metric(metric.name),
    )


def look_at_figures(
    model: RoleModel, request: str, figures: list[Figure]
) -> tuple[str, FigureReview | None]:
    """Ask `model` about `figures`, sent as images with `request`; who looked, and its
    review (None when the call failed: the note then says why)."""
    try:
        images = tuple(figure_image(figure.source) for figure in figures)
    except ScientistError as exc:
        return f"vision check failed: {exc}", None
    message = Message(role="user", content=request, images=images)
    try:
        completion = model.complete([message], schema=FigureReview)
    except LLMError as exc:
        return f"vision check failed: {exc}", None
    return f"looked at by {completion.model}", completion.parsed


def merged(
    findings: list[FigureFindings], review: FigureReview, shown: list[Figure]
) -> list[FigureFindings]:
    """The model's verdicts on the figures it was `shown` joined to their mechanical
    findings; what the pixels showed (blank, variance) is kept as it is."""
    names = {figure.source.name for figure in shown}
    verdicts = {verdict.figure: verdict for verdict in review.figures if verdict.figure in names}
    joined = []
    for finding in findings:
        verdict = verdicts.get(finding.figure)
        if verdict is None:
            joined.append(finding)
            continue
        update = {
            "degenerate": verdict.degenerate,
            "mislabelled": verdict.mislabelled,
            "supports_idea": verdict.supports_idea,
            "notes": verdict.notes.strip(),
        }
        joined.append(finding.model_copy(update=update))
    return joined


def finding_line(finding: FigureFindings) -> str:
    """One figure's findings, as the code model reads them."""
    problems = [
        name
        for name, found in (
            ("BLANK", finding.blank),
            ("DEGENERATE", finding.degenerate),
            ("MISLABELLED", finding.mislabelled),
        )
        if found
    ]
    if finding.supports_idea is False:
        problems.append("does not show what the idea claims")
    state = ", ".join(problems) or "no problem found"
    if finding.pixel_variance is not None:
        state += f" (pixel variance {finding.pixel_variance:.2g})"
    return f"{finding.figure}: {state}" + (f". {finding.notes}" if finding.notes else "")
