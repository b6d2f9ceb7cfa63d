"""Reading a paper PDF: its text (pypdf), page count, and the pages that hold figures."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from scientist.errors import ScientistError

MAX_TEXT_CHARS = 60_000
_FIGURE_CAPTION = re.compile(r"\bFig(?:ure|\.)\s*\d+\s*[:.]")


class PdfText(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    pages: int
    text: str
    figure_pages: list[int]
    truncated: bool


def read_pdf(path: Path, *, max_chars: int = MAX_TEXT_CHARS) -> PdfText:
    """Extract the text of every page; figure pages are those with a figure caption."""
    try:
        reader = PdfReader(path)
        page_texts = [page.extract_text() or "" for page in reader.pages]
    except FileNotFoundError:
        raise ScientistError(f"paper {path} does not exist") from None
    except (PdfReadError, OSError, ValueError) as exc:
        raise ScientistError(f"{path} is not a readable PDF: {exc}") from None
    figure_pages = [i + 1 for i, text in enumerate(page_texts) if _FIGURE_CAPTION.search(text)]
    text = "\n\n".join(
        f"[page {i + 1}]\n{page_text.strip()}" for i, page_text in enumerate(page_texts)
    )
    return PdfText(
        path=path,
        pages=len(page_texts),
        text=text[:max_chars],
        figure_pages=figure_pages,
        truncated=len(text) > max_chars,
    )
