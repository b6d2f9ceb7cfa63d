"""Reading a paper PDF: its text (pypdf) and page count."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from scientist.errors import ScientistError

MAX_TEXT_CHARS = 60_000


class PdfText(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    pages: int
    text: str
    truncated: bool


def read_pdf(path: Path, *, max_chars: int = MAX_TEXT_CHARS) -> PdfText:
    """Extract the text of every page, each headed by its page number."""
    try:
        reader = PdfReader(path)
        page_texts = [page.extract_text() or "" for page in reader.pages]
    except FileNotFoundError:
        raise ScientistError(f"paper {path} does not exist") from None
    except (PdfReadError, OSError, ValueError) as exc:
        raise ScientistError(f"{path} is not a readable PDF: {exc}") from None
    text = "\n\n".join(
        f"[page {i + 1}]\n{page_text.strip()}" for i, page_text in enumerate(page_texts)
    )
    return PdfText(
        path=path,
        pages=len(page_texts),
        text=text[:max_chars],
        truncated=len(text) > max_chars,
    )
