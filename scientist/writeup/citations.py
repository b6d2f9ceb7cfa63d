"""The paper's bibliography: the pack's `references.bib` plus BibTeX from the literature client.

Entries come only from those two sources, never from a model's memory. Keys are
de-duplicated (the same title twice keeps the first entry; a different work under a taken
key gets a suffix), and what could not be added is recorded as skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from scientist.errors import LiteratureUnavailable
from scientist.literature import LiteratureClient

_ENTRY_START = re.compile(r"@\s*(\[[^\]]*\]|[A-Za-z]+)\s*\{\s*([^,\s]+)\s*,")
_FIELD = r"\b{name}\s*=\s*[{{\"](.+?)[}}\"]\s*,?\s*$"


@dataclass
class BibEntry:
    key: str
    text: str

    def field(self, name: str) -> str | None:
        match = re.search(_FIELD.format(name=name), self.text, re.IGNORECASE | re.MULTILINE)
        return match.group(1).strip("{} ") if match else None

    @property
    def title(self) -> str:
        return self.field("title") or self.key

    @property
    def year(self) -> int | None:
        year = self.field("year")
        return int(year) if year and year.isdigit() else None


@dataclass
class Bibliography:
    entries: list[BibEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]

    def years(self) -> list[int]:
        return [entry.year for entry in self.entries if entry.year is not None]

    def add(self, text: str) -> BibEntry | None:
        """Add one entry (normalised); returns it, or None for a duplicate or unparsable one."""
        entry = normalise_entry(text)
        if entry is None:
            self.skipped.append(f"unparsable BibTeX: {text[:60]!r}")
            return None
        titles = {_title_key(e.title) for e in self.entries}
        if _title_key(entry.title) in titles:
            return None
        taken = set(self.keys)
        if entry.key in taken:
            suffix = next(s for s in "bcdefghijklmnopqrstuvwxyz" if entry.key + s not in taken)
            entry = BibEntry(key=entry.key + suffix, text=_rekey(entry.text, entry.key + suffix))
        self.entries.append(entry)
        return entry

    def render(self) -> str:
        return "\n\n".join(entry.text.strip() for entry in self.entries) + "\n"


def _title_key(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def _rekey(text: str, key: str) -> str:
    return _ENTRY_START.sub(lambda m: f"@{m.group(1)}{{{key},", text, count=1)


def normalise_entry(text: str) -> BibEntry | None:
    """Parse one entry; Semantic Scholar's `@['JournalArticle', ...]{` type becomes a real one."""
    match = _ENTRY_START.search(text)
    if match is None:
        return None
    kind, key = match.groups()
    if kind.startswith("["):
        kind = "inproceedings" if "Conference" in kind else "article"
    key = re.sub(r"[^A-Za-z0-9_:-]", "", key)
    body = text[match.end() :]
    return BibEntry(key=key, text=f"@{kind}{{{key},{body}".strip())


def split_entries(bib: str) -> list[str]:
    starts = [m.start() for m in re.finditer(r"^\s*@", bib, re.MULTILINE)]
    return [bib[a:b].strip() for a, b in zip(starts, [*starts[1:], len(bib)], strict=True)]


def gather_bibliography(
    pack_bib: Path | None,
    queries: list[str],
    literature: LiteratureClient | None,
    *,
    per_query: int = 3,
) -> Bibliography:
    """The pack's references, then up to `per_query` papers per query from the client."""
    bib = Bibliography()
    if pack_bib is not None and pack_bib.is_file():
        for chunk in split_entries(pack_bib.read_text(encoding="utf-8")):
            bib.add(chunk)
    if literature is None:
        bib.skipped += [f"search '{q}': no literature client" for q in queries]
        return bib
    for query in queries:
        try:
            papers = literature.search(query, limit=per_query)
        except LiteratureUnavailable as exc:
            bib.skipped.append(f"search '{query}': {exc.message}")
            continue
        for paper in papers:
            try:
                text = literature.bibtex(paper)
            except LiteratureUnavailable as exc:
                bib.skipped.append(f"{paper.title}: {exc.message}")
                continue
            if text is None:
                bib.skipped.append(f"{paper.title}: no BibTeX from the service")
                continue
            bib.add(text)
    return bib
