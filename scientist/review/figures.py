"""The figures a paper includes, read from its LaTeX source: for the LLM reviewer, which
sees them beside the text when its model accepts images, and for the rubric reviewer, which
checks each mechanically (the file exists, it is not blank, the text refers to it)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from scientist.errors import ScientistError
from scientist.llm.images import Image
from scientist.records.figures import BLANK_VARIANCE, figure_image, pixel_variance

FIGURE_MAX_SIDE = 1024
"""The longer side, in pixels, of a figure shown to a reviewer."""
LATEX_IMAGE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg")

_ENVIRONMENT = re.compile(r"\\begin\{figure\*?\}(.*?)\\end\{figure\*?\}", re.DOTALL)
_GRAPHICS = re.compile(r"\\includegraphics\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}")
_LABEL = re.compile(r"\\label\{([^}]*)\}")
_REF = re.compile(r"\\(?:ref|autoref|cref|Cref)\{([^}]*)\}")

log = logging.getLogger(__name__)


class IncludedFigure(BaseModel):
    """One `\\includegraphics` of a figure environment: the file as written in the source,
    where it resolves to, and the environment's label (None when it has none)."""

    model_config = ConfigDict(frozen=True)

    written: str
    file: Path
    label: str | None


def _resolve(folder: Path, written: str) -> Path:
    """The file LaTeX would include for `written` (it tries image suffixes when none is
    given)."""
    path = folder / written
    if path.suffix or path.is_file():
        return path
    return next(
        (path.with_suffix(s) for s in LATEX_IMAGE_SUFFIXES if path.with_suffix(s).is_file()),
        path,
    )


def included_figures(tex_path: Path) -> list[IncludedFigure]:
    """Every figure the paper's source includes, in order ([] without a source)."""
    if not tex_path.is_file():
        return []
    source = tex_path.read_text(encoding="utf-8", errors="replace")
    found: list[IncludedFigure] = []
    for environment in _ENVIRONMENT.findall(source):
        label = _LABEL.search(environment)
        for written in _GRAPHICS.findall(environment):
            found.append(
                IncludedFigure(
                    written=written.strip(),
                    file=_resolve(tex_path.parent, written.strip()),
                    label=label.group(1).strip() if label else None,
                )
            )
    return found


def referenced_labels(tex_path: Path) -> set[str]:
    source = tex_path.read_text(encoding="utf-8", errors="replace")
    return {label.strip() for group in _REF.findall(source) for label in group.split(",")}


def figure_problems(tex_path: Path) -> list[str]:
    """What is wrong with the paper's figures, one sentence each: a file that is missing or
    cannot be read, a blank figure (one flat colour), a figure the text never refers to."""
    problems: list[str] = []
    figures = included_figures(tex_path)
    referenced = referenced_labels(tex_path) if figures else set()
    for figure in figures:
        name = f"Figure {figure.written}"
        if not figure.file.is_file():
            problems.append(f"{name} is included, but its file is missing.")
            continue
        try:
            variance = pixel_variance(figure.file)
            if variance < BLANK_VARIANCE:
                problems.append(
                    f"{name} is blank: one flat colour (pixel variance {variance:.2g})."
                )
        except ScientistError as exc:
            problems.append(f"{name} cannot be read: {exc}.")
        if figure.label is None:
            problems.append(f"{name} has no label, so the text cannot refer to it.")
        elif figure.label not in referenced:
            problems.append(f"{name} ({figure.label}) is never referenced in the text.")
    return problems


def figure_images(tex_path: Path, *, limit: int) -> tuple[Image, ...]:
    """The first `limit` figures the paper includes whose files can be shown, as images of at
    most `FIGURE_MAX_SIDE` pixels a side, each named after its file as the source writes it;
    a figure that cannot be read is left out (and logged)."""
    images: list[Image] = []
    for figure in included_figures(tex_path):
        if len(images) == limit:
            break
        if not figure.file.is_file():
            continue
        try:
            image = figure_image(figure.file, max_side=FIGURE_MAX_SIDE)
        except ScientistError as exc:
            log.warning("figure %s is not shown to the reviewer: %s", figure.written, exc)
            continue
        images.append(image.model_copy(update={"name": figure.written}))
    return tuple(images)
