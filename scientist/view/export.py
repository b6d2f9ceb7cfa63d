"""`scientist view DIR --out SITE`: the same pages as a static site that can be shared.

Pages are written under their paths; the campaign files they link to (papers, figures,
logs) are copied under `files/`, nothing else of the campaign. The folder opens from disk
or from any static web host; it does not refresh itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from scientist.errors import ViewError
from scientist.view.site import FILES, Site, linked_files


def export_site(site: Site, out: Path) -> int:
    """Write every page and linked file of `site` under `out`; returns the files written."""
    out = out.resolve()
    if out.is_relative_to(site.reader.root) or site.reader.root.is_relative_to(out):
        raise ViewError(
            f"{out} overlaps the campaign directory; the view never writes into a campaign",
            hint="pass an --out folder outside it",
        )
    if out.exists() and not out.is_dir():
        raise ViewError(f"{out} exists and is not a folder", hint="pass a new or empty folder")
    try:
        return _write_site(site, out)
    except OSError as exc:
        raise ViewError(f"cannot write the site to {out}: {exc.strerror or exc}") from None


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
