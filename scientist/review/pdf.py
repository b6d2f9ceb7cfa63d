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


def _check_header(path: Path) -> None:
    """Refuse a file that is not a PDF before pypdf logs its own warnings about it."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        raise ScientistError(f"paper {path} does not exist") from None
    except IsADirectoryError:
        raise ScientistError(f"{path} is a directory, not a PDF") from None
    except OSError as exc:
        raise ScientistError(f"{path} is not a readable PDF: {exc}") from None
    if b"%PDF-" not in head:
        raise ScientistError(f"{path} is not a readable PDF: it has no %PDF- header")


def read_pdf(path: Path, *, max_chars: int = MAX_TEXT_CHARS) -> PdfText:
    """Extract the text of every page, each headed by its page number."""
    _check_header(path)
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
