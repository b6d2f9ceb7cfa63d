"""Drawn figures as the host reads them: the plot script's files collected with their
captions, and what can be told about a figure without a model (its pixels). Figures with
identical pixels are one figure. A figure is shown to a model as a PNG (`figure_image`): a
PDF figure is rasterised with poppler's `pdftoppm` first. Drawing them is
`scientist.experiments.figures`.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from pydantic import TypeAdapter, ValidationError

from scientist.errors import ScientistError
from scientist.llm.images import DEFAULT_MAX_SIDE, Image, declared_pixels

CAPTIONS_FILE = "captions.json"


RUN_LABELS = "run_labels.json"


CAPTIONS = TypeAdapter(dict[str, str])


BLANK_VARIANCE = 1e-4
"""Pixel variance (grey levels in [0, 1]) under which a figure counts as blank."""


@dataclass
class Figure:
    """A figure drawn by the pack's plot script: `source` on disk, `path` in the paper folder
    (a LaTeX-safe file name), `name` the plot's own file stem, `copies` the stems of the
    figures it drew with the same pixels (printed once, as this one)."""

    label: str
    path: str
    caption: str
    source: Path
    name: str
    copies: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [self.name, *self.copies]


def _captions(path: Path) -> dict[str, str]:
    """The captions plot.py wrote (`{stem: caption}`); none when the file is missing or is
    not such a mapping (what a run writes is untrusted)."""
    try:
        return CAPTIONS.validate_json(path.read_bytes().decode("utf-8", errors="replace"))
    except (OSError, ValidationError):
        return {}


def _caption(stem: str, captions: dict[str, str], pack: str) -> str:
    if stem in captions:
        return captions[stem]
    words = re.sub(r"[_\-]+", " ", re.sub(r"\d+", " ", stem)).strip() or "results"
    return f"{words[:1].upper()}{words[1:]}, drawn by the {pack} pack's plot script from the runs."


def collect_figures(figures_dir: Path, pack: str) -> list[Figure]:
    captions = _captions(figures_dir / CAPTIONS_FILE)
    chosen: dict[str, Path] = {}
    for path in sorted(figures_dir.glob("*")):
        if path.suffix.lower() == ".pdf" or (
            path.suffix.lower() == ".png" and path.stem not in chosen
        ):
            chosen[path.stem] = path
    figures: list[Figure] = []
    for stem, path, copies in _merge_identical(chosen):
        safe = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-") or "figure"
        if any(figure.label == f"fig:{safe}" for figure in figures):
            safe = f"{safe}-{len(figures)}"
        caption = _caption(stem, captions, pack)
        if copies:
            caption += f" (The same figure was drawn as {', '.join(copies)}; it is shown once.)"
        figures.append(
            Figure(
                label=f"fig:{safe}",
                path=f"figures/{safe}{path.suffix.lower()}",
                caption=caption,
                source=path,
                name=stem,
                copies=copies,
            )
        )
    return figures


def _merge_identical(chosen: dict[str, Path]) -> list[tuple[str, Path, list[str]]]:
    """Each distinct figure once, by stem, with the stems of its identical copies (the same
    pixels: a plot drawn per run of two runs that gave the same results)."""
    kept: dict[str, tuple[str, Path, list[str]]] = {}
    for stem, path in sorted(chosen.items()):
        key = _pixels_digest(path)
        if key is not None and key in kept:
            kept[key][2].append(stem)
        else:
            kept[key or stem] = (stem, path, [])
    return list(kept.values())


def _pixels_digest(path: Path) -> str | None:
    """A digest of the figure's size and pixels (None when it cannot be read)."""
    try:
        with PILImage.open(raster(path)) as opened:
            rgb = opened.convert("RGB")
            return hashlib.sha256(repr(rgb.size).encode() + rgb.tobytes()).hexdigest()
    except (OSError, ScientistError):
        return None


def raster(path: Path, *, max_side: int = DEFAULT_MAX_SIDE) -> Path:
    """A PNG of figure `path`: the file itself, or its first page rasterised (PDF) into
    `.previews/<stem>.png` beside it (a hidden folder, so it is never taken for a figure)."""
    if path.suffix.lower() != ".pdf":
        return path
    target = path.parent / ".previews" / f"{path.stem}.png"
    target.parent.mkdir(exist_ok=True)
    if target.is_file() and target.stat().st_mtime >= path.stat().st_mtime:
        return target
    return rasterise_page(path, 1, target, max_side=max_side)


def rasterise_page(pdf: Path, page: int, target: Path, *, max_side: int) -> Path:
    """Page `page` (from 1) of `pdf` as the PNG `target`, its longer side `max_side` pixels
    (poppler's `pdftoppm`)."""
    try:
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-singlefile",
                "-f",
                str(page),
                "-l",
                str(page),
                "-scale-to",
                str(max_side),
                str(pdf),
                str(target.with_suffix("")),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except FileNotFoundError:
        raise ScientistError(
            "pdftoppm is missing, so PDF figures cannot be shown to a model",
            hint="install poppler-utils",
        ) from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise ScientistError(f"cannot rasterise page {page} of {pdf}: {exc}") from None
    return target


def figure_image(path: Path, *, max_side: int = DEFAULT_MAX_SIDE) -> Image:
    """Figure `path` (PNG or PDF) as an image for a model, named after the figure file."""
    image = Image.from_file(raster(path, max_side=max_side), max_side=max_side)
    return image.model_copy(update={"name": path.name})


def pixel_variance(path: Path) -> float:
    """The variance of the figure's grey levels in [0, 1] (0 for a single flat colour)."""
    picture = raster(path)
    declared_pixels(picture)
    try:
        with PILImage.open(picture) as opened:
            grey = np.asarray(opened.convert("L"), dtype=np.float64) / 255.0
    except OSError as exc:
        raise ScientistError(f"cannot read figure {path}: {exc}") from None
    return float(grey.var())


def is_blank(path: Path) -> bool:
    """Whether the figure is one flat colour (nothing was drawn on it)."""
    return pixel_variance(path) < BLANK_VARIANCE
