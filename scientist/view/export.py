"""`scientist view DIR --out SITE`: the same pages as a static site that can be shared.

Pages are written under their paths; the campaign files they link to (papers, figures,
logs) are copied under `files/`, nothing else of the campaign. The folder opens from disk
or from any static web host; it does not refresh itself. `MARK` names the campaign a folder
is an export of: a folder that is not empty is written into only when it is an earlier
export of the same campaign, or when the caller forces it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from scientist.errors import ViewError
from scientist.view.site import FILES, Site, linked_files

MARK = ".scientist-view.json"


def export_site(site: Site, out: Path, *, force: bool = False) -> int:
    """Write every page and linked file of `site` under `out`; returns the files written.
    A folder that holds anything else than an earlier export of this campaign is refused
    unless `force`."""
    out = out.resolve()
    if out.is_relative_to(site.reader.root) or site.reader.root.is_relative_to(out):
        raise ViewError(
            f"{out} overlaps the campaign directory; the view never writes into a campaign",
            hint="pass an --out folder outside it",
        )
    if out.exists() and not out.is_dir():
        raise ViewError(f"{out} exists and is not a folder", hint="pass a new or empty folder")
    mark = {"campaign": str(site.reader.root)}
    if not force and _holds_something_else(out, mark):
        raise ViewError(
            f"{out} is not empty and is not an earlier export of this campaign",
            hint="pass a new or empty folder, or --force to write into it anyway",
        )
    try:
        written = _write_site(site, out)
        (out / MARK).write_text(json.dumps(mark), encoding="utf-8")
        return written
    except OSError as exc:
        raise ViewError(f"cannot write the site to {out}: {exc.strerror or exc}") from None


def _holds_something_else(out: Path, mark: dict[str, str]) -> bool:
    if not out.is_dir() or not any(out.iterdir()):
        return False
    try:
        return json.loads((out / MARK).read_text(encoding="utf-8")) != mark
    except (OSError, ValueError):
        return True


def _write_site(site: Site, out: Path) -> int:
    written = 0
    for path in site.paths():
        page = site.page(path)
        if page is None:  # an idea whose archive line changed meanwhile
            continue
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page.body)
        written += 1
    for entry in site.reader.archive():
        detail = site.reader.idea(entry.id)
        for relative in linked_files(detail) if detail else []:
            source = site.campaign_file(relative)
            if source is not None:
                target = out / FILES / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                written += 1
    return written
