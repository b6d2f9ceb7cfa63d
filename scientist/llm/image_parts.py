"""The image parts of a chat request body, checked the way the OpenAI and Anthropic APIs do.

The replay server reads a request's images with `openai_image_sizes` (content parts
`{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}`, in user messages
only) or `anthropic_image_sizes` (blocks `{"type": "image", "source": {"type": "base64",
"media_type": ..., "data": ...}}`, in user turns only). A malformed part raises `ValueError`
whose message names the part as the real API's 400 answer does: a wrong part type, a missing
field, a media type the APIs refuse, base64 that does not decode, or bytes that are not an
image of the declared type. Images given by http URL are refused too: the server fetches
nothing. Otherwise the images' pixel sizes come back, for the usage the server reports.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
OPENAI_PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal")
ANTHROPIC_BLOCK_TYPES = ("text", "image", "document", "tool_use", "tool_result", "thinking")
DETAILS = ("auto", "low", "high")
DATA_URL = re.compile(r"data:(?P<media_type>[\w/+.-]+);base64,(?P<data>.*)", re.DOTALL)

Size = tuple[int, int]


def openai_image_sizes(messages: list[dict[str, Any]]) -> list[Size]:
    """The pixel sizes of the `image_url` parts of chat-completions `messages`."""
    sizes = []
    for m, message in enumerate(messages):
        for p, part in enumerate(_parts(message)):
            where = f"messages[{m}].content[{p}]"
            kind = part.get("type")
            if kind not in OPENAI_PART_TYPES:
                raise ValueError(
                    f"Invalid value for '{where}.type': {kind!r}. Supported values are: "
                    + ", ".join(repr(name) for name in OPENAI_PART_TYPES)
                )
            if kind != "image_url":
                continue
            if message.get("role") != "user":
                raise ValueError(
                    f"Invalid 'messages[{m}]'. Image URLs are only allowed for messages with "
                    f"role 'user', but this message with role {message.get('role')!r} "
                    "contains an image URL."
                )
            sizes.append(_openai_image(part.get("image_url"), f"{where}.image_url"))
    return sizes


def anthropic_image_sizes(messages: list[dict[str, Any]]) -> list[Size]:
    """The pixel sizes of the `image` blocks of Messages API `messages`."""
    sizes = []
    for m, message in enumerate(messages):
        for b, block in enumerate(_parts(message)):
            where = f"messages.{m}.content.{b}"
            kind = block.get("type")
            if kind not in ANTHROPIC_BLOCK_TYPES:
                raise ValueError(
                    f"{where}: Input tag {kind!r} found using 'type' does not match any of "
                    "the expected tags: " + ", ".join(repr(t) for t in ANTHROPIC_BLOCK_TYPES)
                )
            if kind != "image":
                continue
            if message.get("role") != "user":
                raise ValueError(f"{where}: images are only allowed in user turns")
            sizes.append(_anthropic_image(block.get("source"), f"{where}.image.source"))
    return sizes


def image_size(part: dict[str, Any]) -> Size:
    """The pixel size of one image part of either wire (`image_url` or `image`)."""
    if part.get("type") == "image_url":
        return _openai_image(part.get("image_url"), "image_url")
    return _anthropic_image(part.get("source"), "image.source")


def without_images(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with their image parts left out (what text-token counting reads)."""
    return [
        {**message, "content": [p for p in message["content"] if not is_image(p)]}
        if isinstance(message.get("content"), list)
        else message
        for message in messages
    ]


def _openai_image(image_url: Any, where: str) -> Size:
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str):
        raise ValueError(f"Missing required parameter: '{where}.url'.")
    detail = image_url.get("detail", "auto")
    if detail not in DETAILS:
        raise ValueError(
            f"Invalid value for '{where}.detail': {detail!r}. Supported values are: "
            "'auto', 'low', and 'high'."
        )
    found = DATA_URL.fullmatch(url)
    if found is None:
        raise ValueError(
            f"Invalid '{where}.url': expected a base64 data URL (data:image/png;base64,...); "
            "the replay server fetches no URLs."
        )
    if found["media_type"] not in FORMATS:
        raise ValueError(
            f"Invalid '{where}.url': you uploaded an unsupported image. Please make sure your "
            "image has one of the following formats: ['png', 'jpeg', 'gif', 'webp']."
        )
    return _decoded_size(found["media_type"], found["data"], f"{where}.url")


def _anthropic_image(source: Any, where: str) -> Size:
    if not isinstance(source, dict):
        raise ValueError(f"{where}: Field required")
    if source.get("type") != "base64":
        raise ValueError(
            f"{where}.type: expected 'base64' (the replay server fetches no URLs or files)"
        )
    media_type = source.get("media_type")
    if media_type not in FORMATS:
        raise ValueError(
            f"{where}.base64.media_type: Input should be "
            + ", ".join(repr(name) for name in FORMATS)
        )
    data = source.get("data")
    if not isinstance(data, str):
        raise ValueError(f"{where}.base64.data: Field required")
    return _decoded_size(media_type, data, f"{where}.base64.data")


def _decoded_size(media_type: str, data: str, where: str) -> Size:
    """The pixel size of base64 `data`, which must be an image of `media_type`."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: invalid base64 data") from None
    subtype = media_type.partition("/")[2]
    wrong = ValueError(
        f"{where}: The image was specified using the {media_type} media type, but does not "
        f"appear to be a valid {subtype} image"
    )
    try:
        with PILImage.open(io.BytesIO(raw)) as picture:
            found, size = picture.format, picture.size
    except (OSError, UnidentifiedImageError):
        raise wrong from None
    if found != FORMATS[media_type]:
        raise wrong
    return size


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's content parts (none when its content is a plain string)."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [part if isinstance(part, dict) else {"type": None} for part in content]


def is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") in ("image", "image_url")
