"""Reading a paper: a PDF (text by pypdf, and its page count) or a text file parsed from one."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from scientist.errors import ScientistError

MAX_TEXT_CHARS = 60_000


TEXT_SUFFIXES = (".txt", ".md", ".mmd")


class PdfText(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    pages: int | None = Field(description="None for a paper given as parsed text")
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


def read_text_paper(path: Path, *, max_chars: int = MAX_TEXT_CHARS) -> PdfText:
    """A paper already parsed to text or Markdown (its page count is unknown)."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ScientistError(f"paper {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScientistError(f"paper {path} is not a readable UTF-8 text: {exc}") from None
    return PdfText(path=path, pages=None, text=text[:max_chars], truncated=len(text) > max_chars)


def read_paper(path: Path) -> PdfText:
    """A PDF, or a parsed text (.txt, .md, .mmd)."""
    return read_text_paper(path) if path.suffix.lower() in TEXT_SUFFIXES else read_pdf(path)
