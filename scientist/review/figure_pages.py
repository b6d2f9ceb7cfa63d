"""The pages of a bare PDF that show figures, rasterised for a reviewer whose model takes
images (`scientist review PAPER.pdf` has no LaTeX source to read the figures from).

A page shows a figure when its resources hold an image or an embedded graphic: an XObject of
subtype /Image (a bitmap), or /Form (pdflatex embeds a PDF figure as one). A figure drawn
inline with vector operators (TikZ, pgfplots) is not found this way. Each such page is
rasterised whole with poppler's `pdftoppm`, its longer side `FIGURE_MAX_SIDE` pixels, and
named after its page.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import PdfReadError

from scientist.errors import ScientistError
from scientist.llm import RoleModel
from scientist.llm.images import Image
from scientist.records.figures import rasterise_page
from scientist.review.figures import FIGURE_MAX_SIDE

GRAPHICS_SUBTYPES = ("/Image", "/Form")

log = logging.getLogger(__name__)


def _shows_graphics(page: PageObject) -> bool:
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is None:
        return False
    xobjects = xobjects.get_object()
    return any(
        xobjects[name].get_object().get("/Subtype") in GRAPHICS_SUBTYPES for name in xobjects
    )


def figure_page_numbers(pdf_path: Path) -> list[int]:
    """The pages (from 1) of `pdf_path` that draw an image or an embedded graphic."""
    try:
        pages = PdfReader(pdf_path).pages
        return [number for number, page in enumerate(pages, start=1) if _shows_graphics(page)]
    except (PdfReadError, OSError, ValueError) as exc:
        raise ScientistError(f"{pdf_path} is not a readable PDF: {exc}") from None


def figure_pages(pdf_path: Path, *, limit: int) -> tuple[Image, ...]:
    """The first `limit` pages that show figures, as images named `page <n>`; a page that
    cannot be rasterised is left out (and logged)."""
    images: list[Image] = []
    with tempfile.TemporaryDirectory(prefix="scientist-pages-") as folder:
        for page in figure_page_numbers(pdf_path)[:limit]:
            target = Path(folder) / f"page-{page}.png"
            try:
                png = rasterise_page(pdf_path, page, target, max_side=FIGURE_MAX_SIDE)
                image = Image.from_file(png, max_side=FIGURE_MAX_SIDE)
            except ScientistError as exc:
                log.warning("page %d is not shown to the reviewer: %s", page, exc)
                continue
            images.append(image.model_copy(update={"name": f"page {page}"}))
    return tuple(images)


def figure_pages_for(model: RoleModel | None, pdf_path: Path, *, limit: int) -> tuple[Image, ...]:
    """What the reviewer of a bare PDF is shown beside its text: the figure pages when every
    model of the role takes images, else nothing (and the log says why)."""
    if model is None or limit == 0:
        return ()
    if not model.sees_images:
        log.warning(
            "review: %s takes no images; the PDF's figure pages are not sent "
            '(models.capabilities."<model>".vision = true if it accepts images)',
            ", ".join(model.models),
        )
        return ()
    return figure_pages(pdf_path, limit=limit)
