"""Images a message carries to a model that accepts them (PNG figures from runs and papers).

An `Image` is the encoded bytes plus what pricing and the wire formats need: the media type
and the pixel size. `Image.from_file` reads a figure and shrinks it so its longer side is at
most `max_side` pixels (providers downscale larger images anyway, and bill what they keep).
"""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Literal

from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from pydantic import BaseModel, ConfigDict

from scientist.errors import ScientistError

DEFAULT_MAX_SIDE = 1024
MAX_PIXELS = 40_000_000
"""The most pixels an image file may declare before the host decodes it (a figure a run drew
is untrusted: a few KB of PNG can declare billions of pixels)."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def declared_pixels(path: Path) -> tuple[int, int]:
    """The width and height an image file declares, read from its header without decoding
    it: a PNG's IHDR, else what PIL reads of the header. ScientistError for an unreadable
    file, or one that declares more than MAX_PIXELS."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
        if head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR":
            size = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        else:
            with PILImage.open(path) as opened:
                size = opened.size
    except (OSError, UnidentifiedImageError, PILImage.DecompressionBombError) as exc:
        raise ScientistError(f"cannot read image {path}: {exc}") from None
    if size[0] * size[1] > MAX_PIXELS:
        raise ScientistError(
            f"image {path} declares {size[0]} x {size[1]} pixels, more than the "
            f"{MAX_PIXELS:,} the host decodes"
        )
    return size


class Image(BaseModel):
    """One image in a message: base64 `data` of `media_type`, `width` x `height` pixels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    media_type: Literal["image/png", "image/jpeg"] = "image/png"
    data: str
    width: int
    height: int

    @classmethod
    def from_file(cls, path: Path, *, max_side: int = DEFAULT_MAX_SIDE) -> Image:
        """`path` as a PNG whose longer side is at most `max_side` pixels."""
        declared_pixels(path)
        try:
            with PILImage.open(path) as opened:
                picture = opened.convert("RGBA" if opened.mode in ("RGBA", "LA", "P") else "RGB")
        except (OSError, UnidentifiedImageError) as exc:
            raise ScientistError(f"cannot read image {path}: {exc}") from None
        picture.thumbnail((max_side, max_side))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return cls(name=Path(path).name, data=data, width=picture.width, height=picture.height)

    @property
    def digest(self) -> str:
        """sha256 of the encoded bytes: what identifies the image in a request's key."""
        return hashlib.sha256(self.data.encode("ascii")).hexdigest()

    @property
    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.data}"
