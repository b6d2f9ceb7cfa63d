"""The figure review of a model-written paper: each body figure, its caption and the
paragraphs that refer to it (`\\ref{fig:...}`), looked at together by the `write` step's
vision model (`Context.vision_model("write")`), after the sections are drafted.

Its findings reach the critique round of the sections that discuss each figure (the Results
when none does). What is settled here, without the writer: a caption that does not describe
its figure is replaced by the caption the vision model wrote, or, without one, the figure is
dropped to `supplementary/`; a figure that repeats an earlier one is dropped and its
references point to that one; a figure no section refers to after the critique round gets a
sentence in the Results (mechanical: no model is asked). `records()` says per figure what
was found and done (`Paper.figure_review`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from scientist.errors import LLMError, ScientistError
from scientist.llm import Message, RoleModel
from scientist.llm.images import Image
from scientist.models import FigureAction, FigureCheck
from scientist.prompts import render_prompt
from scientist.records.figures import Figure, figure_image
from scientist.writeup.context import PaperContext, reference_sentence, referenced_labels, tex

FIGURE_MAX_SIDE = 1024
"""The longer side, in pixels, of a figure shown to the vision model."""
UNREFERENCED = "no section refers to it"


class FigureVerdict(BaseModel):
    """The vision model's verdict on one figure."""

    label: str
    caption_matches: bool = Field(description="the caption describes what is drawn")
    caption_problem: str = ""
    better_caption: str = Field(default="", description="plain text describing what is drawn")
    text_matches: bool = Field(description="the paragraphs claim only what the figure shows")
    text_problem: str = ""
    duplicate_of: str = Field(default="", description="an earlier figure showing the same")
    unreadable: str = Field(default="", description="axes or labels that cannot be read")


class FigureVerdicts(BaseModel):
    figures: list[FigureVerdict]


def citing_paragraphs(sections: dict[str, str], label: str) -> list[str]:
    """The paragraphs of `sections` that refer to `label`."""
    return [
        paragraph.strip()
        for body in sections.values()
        for paragraph in re.split(r"\n\s*\n", body)
        if label in referenced_labels(paragraph)
    ]


def figure_images(figures: list[Figure]) -> tuple[Image, ...]:
    """The figures as images for the vision model, at most `FIGURE_MAX_SIDE` pixels a side."""
    return tuple(figure_image(figure.source, max_side=FIGURE_MAX_SIDE) for figure in figures)


def repoint(latex: str, label: str, target: str) -> str:
    """`latex` with each reference to `label` ("Figure~\\ref{label}", or the bare `\\ref`)
    replaced by `target`."""
    pattern = re.compile(
        r"(?:(?:Figures?|Figs?\.)(?:~|\s+))?\\(?:ref|autoref|cref|Cref)\{"
        + re.escape(label)
        + r"\}"
    )
    return pattern.sub(lambda _: target, latex)


def look_at_figures(
    figures: list[Figure], images: tuple[Image, ...], sections: dict[str, str], model: RoleModel
) -> list[FigureVerdict]:
    """One request: every figure's image with its caption and the paragraphs that refer to
    it."""
    entries = [
        render_prompt(
            "write/figure_entry",
            number=number,
            file=figure.source.name,
            label=figure.label,
            caption=figure.caption,
            paragraphs="\n\n".join(citing_paragraphs(sections, figure.label)) or "(none)",
        )
        for number, figure in enumerate(figures, start=1)
    ]
    request = render_prompt("write/figure_review", count=len(figures), figures="\n\n".join(entries))
    message = Message(role="user", content=request, images=images)
    return model.complete([message], schema=FigureVerdicts).parsed.figures


@dataclass
class FigureReview:
    """What the review found about the body figures of one paper, and what it changes."""

    figures: list[Figure]
    findings: dict[str, list[str]] = field(default_factory=dict)
    actions: dict[str, list[FigureAction]] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    """Dropped labels, each to the label it duplicates ('' when it duplicates none)."""
    errors: list[str] = field(default_factory=list)

    def _note(self, label: str, finding: str, action: FigureAction | None = None) -> None:
        found = self.findings.setdefault(label, [])
        if finding not in found:
            found.append(finding)
        if action is not None and action not in self.actions.get(label, []):
            self.actions.setdefault(label, []).append(action)

    def judge(self, verdict: FigureVerdict) -> None:
        labels = [figure.label for figure in self.figures]
        label = verdict.label
        if label not in labels:
            return
        earlier = verdict.duplicate_of.strip()
        before = labels[: labels.index(label)]
        if earlier in before and earlier not in self.dropped:
            self._note(label, f"shows the same as {earlier}", "dropped")
            self.dropped[label] = earlier
        if not verdict.caption_matches:
            finding = f"the caption does not describe the figure: {verdict.caption_problem}"
            better = verdict.better_caption.strip()
            if label in self.dropped:
                self._note(label, finding)
            elif better:
                self._note(label, f"{finding} (new caption: {better})", "caption_rewritten")
                self.captions[label] = better
            else:
                self._note(label, finding, "dropped")
                self.dropped[label] = ""
        if not verdict.text_matches:
            self._note(
                label, f"the text does not match the figure: {verdict.text_problem}", "text_revised"
            )
        if verdict.unreadable.strip():
            self._note(label, f"hard to read: {verdict.unreadable.strip()}")

    def revised(self, paper: PaperContext) -> PaperContext:
        """`paper` with the new captions, and the dropped figures moved to supplementary."""
        figures = [
            dataclasses.replace(figure, caption=self.captions.get(figure.label, figure.caption))
            for figure in paper.figures
        ]
        body = [figure for figure in figures if figure.label not in self.dropped]
        dropped = [figure for figure in figures if figure.label in self.dropped]
        return dataclasses.replace(
            paper, figures=body, supplementary=[*paper.supplementary, *dropped]
        )

    def critique_notes(self, drafts: dict[str, str]) -> dict[str, str]:
        """For each section key, the findings its reviser is given ('' when none): a
        figure's findings go to the sections that refer to it, else to the Results."""
        lines: dict[str, list[str]] = {}
        for figure in self.figures:
            found = self.findings.get(figure.label)
            if not found:
                continue
            actions = ", ".join(self.actions.get(figure.label, [])) or "kept"
            line = f"  - `{figure.label}` ({actions}): {'; '.join(found)}"
            keys = [k for k, body in drafts.items() if figure.label in referenced_labels(body)]
            for key in keys or ["results"]:
                lines.setdefault(key, []).append(line)
        return {
            key: render_prompt("write/figure_notes", notes="\n".join(found))
            for key, found in lines.items()
        }

    def settle(self, paper: PaperContext, sections: dict[str, str]) -> dict[str, str]:
        """The revised sections with every reference to a dropped figure pointed at the
        figure it duplicates (or named as supplementary), and a sentence in the Results for
        each body figure of `paper` that no section refers to."""
        settled = dict(sections)
        by_label = {figure.label: figure for figure in self.figures}
        for label, earlier in self.dropped.items():
            target = (
                f"Figure~\\ref{{{earlier}}}"
                if earlier
                else f"Supplementary Figure \\texttt{{{tex(by_label[label].name)}}}"
            )
            settled = {key: repoint(body, label, target) for key, body in settled.items()}
        referenced = referenced_labels("\n".join(settled.values()))
        for figure in paper.figures:
            if figure.label not in referenced:
                settled["results"] = f"{settled['results']}\n\n{reference_sentence(figure)}"
                self._note(figure.label, UNREFERENCED)
            if UNREFERENCED in self.findings.get(figure.label, []):
                self._note(figure.label, UNREFERENCED, "reference_added")
        return settled

    def records(self) -> list[FigureCheck]:
        return [
            FigureCheck(
                label=figure.label,
                name=figure.name,
                findings=self.findings.get(figure.label, []),
                actions=self.actions.get(figure.label) or ["kept"],
            )
            for figure in self.figures
        ]


def review_figures(
    paper: PaperContext, drafts: dict[str, str], looker: RoleModel | None
) -> FigureReview:
    """The figure review of `paper`'s body figures over the drafted `drafts`: the mechanical
    check always, the vision model's verdicts when there is one (`looker`). A failed look is
    recorded in `errors` and the paper goes on without it; `BudgetExceeded` propagates."""
    review = FigureReview(figures=list(paper.figures))
    referenced = referenced_labels("\n".join(drafts.values()))
    for figure in paper.figures:
        if figure.label not in referenced:
            review.findings[figure.label] = [UNREFERENCED]
    if looker is None or not paper.figures:
        return review
    try:
        images = figure_images(paper.figures)
    except ScientistError as exc:  # a figure that cannot be shown (no pdftoppm, a broken file)
        review.errors.append(f"figure review: {exc}")
        return review
    try:
        verdicts = look_at_figures(paper.figures, images, drafts, looker)
    except LLMError as exc:
        review.errors.append(f"figure review: {exc}")
        return review
    for verdict in verdicts:
        review.judge(verdict)
    return review
