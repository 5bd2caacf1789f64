"""``media_source`` of ``POST /v5/pins``: every ``PinMediaSource`` type, checked,
and the ``media`` of the pin it makes.

Types (the spec's discriminator ``source_type``): ``image_url`` (``url``);
``image_base64`` (``content_type`` image/jpeg or image/png, ``data`` standard
padded base64 whose bytes really are that type by their magic bytes);
``multiple_image_urls`` / ``multiple_image_base64`` (``items``: 2 to 5, each
an ``image_url``-like ``url`` or ``content_type`` + ``data``, with optional
``title``, ``description``, ``link``; optional ``index``, an item's position);
``video_id`` (``media_id`` of the caller's ``succeeded`` upload, checked by the
API with ``media.MediaStore.for_pin``; at most one cover: ``cover_image_url``,
or ``cover_image_data`` + ``cover_image_content_type``, or
``cover_image_key_frame_time`` seconds; none means the first frame).
``pin_url`` is for beta users only and refused. Every refusal is a 400 with
code 1 whose message names the source type and the field.

Media of the pin: ``image`` (``images``), ``multiple_images`` (``items`` of
ImageMetadata, creative type CAROUSEL) or ``video`` (``cover_image_url``,
``images`` of the cover, ``width``/``height`` 1080x1920 and ``duration`` in ms
estimated from the file's size at 8 Mbit/s; creative type VIDEO).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from . import data
from .errors import ApiError, bad_request

IMAGE_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # Pinterest's image limit: 20 MB
CAROUSEL_MIN, CAROUSEL_MAX = 2, 5
ITEM_TEXT_LIMITS = {"title": 100, "description": 800, "link": 2048}
COVER_FIELDS = ("cover_image_url", "cover_image_data", "cover_image_key_frame_time")
SOURCE_TYPES = ("image_url", "image_base64", "multiple_image_urls", "multiple_image_base64", "video_id")
VIDEO_WIDTH, VIDEO_HEIGHT = 1080, 1920
VIDEO_BYTES_PER_MS = 1000  # 8 Mbit/s


def is_http_url(value: object) -> bool:
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _fail(source_type: object, message: str) -> ApiError:
    return bad_request(f"Invalid request: media_source (source_type {source_type!r}): {message}")


def _kind(raw: bytes) -> str:
    for content_type, magic in IMAGE_MAGIC.items():
        if raw.startswith(magic):
            return content_type
    return "neither JPEG nor PNG"


def decode_image(source_type: str, content_type: object, encoded: object, where: str = "") -> bytes:
    """The image bytes of ``content_type`` + ``data`` (``where`` prefixes the field names)."""
    ct_field, data_field = (
        ("cover_image_content_type", "cover_image_data")
        if where == "cover"
        else (f"{where}content_type", f"{where}data")
    )
    if content_type not in IMAGE_MAGIC:
        raise _fail(source_type, f"'{ct_field}' must be 'image/jpeg' or 'image/png'.")
    if not isinstance(encoded, str) or not encoded:
        raise _fail(source_type, f"'{data_field}' must be a non-empty base64 string.")
    if not BASE64.fullmatch(encoded) or len(encoded) % 4:
        raise _fail(
            source_type, f"'{data_field}' is not valid base64 (standard alphabet, padded; no data: prefix, no spaces)."
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise _fail(source_type, f"'{data_field}' is not valid base64.") from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise _fail(source_type, f"'{data_field}' is larger than {MAX_IMAGE_BYTES} bytes.")
    if not raw.startswith(IMAGE_MAGIC[str(content_type)]):
        raise _fail(source_type, f"'{data_field}' is not a {content_type} image (its bytes are {_kind(raw)}).")
    return raw


def _check_text(source_type: str, item: dict, where: str) -> None:
    for name, limit in ITEM_TEXT_LIMITS.items():
        value = item.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _fail(source_type, f"'{where}{name}' must be a string.")
        if len(value) > limit:
            raise _fail(source_type, f"'{where}{name}' is too long ({len(value)} characters, at most {limit}).")
    if item.get("link") is not None and not is_http_url(item["link"]):
        raise _fail(source_type, f"'{where}link' must be an http(s) URL.")


def _check_items(source: dict) -> None:
    source_type = source["source_type"]
    items = source.get("items")
    if not isinstance(items, list) or not CAROUSEL_MIN <= len(items) <= CAROUSEL_MAX:
        count = f"{len(items)} given" if isinstance(items, list) else "not a list"
        raise _fail(source_type, f"'items' must be a list of {CAROUSEL_MIN} to {CAROUSEL_MAX} images ({count}).")
    for i, item in enumerate(items):
        where = f"items[{i}]."
        if not isinstance(item, dict):
            raise _fail(source_type, f"'items[{i}]' must be an object.")
        if source_type == "multiple_image_urls":
            if not is_http_url(item.get("url")):
                raise _fail(source_type, f"'{where}url' must be an http(s) URL.")
        else:
            decode_image(source_type, item.get("content_type"), item.get("data"), where)
        _check_text(source_type, item, where)
    index = source.get("index")
    if index is not None and (type(index) is not int or not 0 <= index < len(items)):
        raise _fail(source_type, f"'index' must be an item's position, 0 to {len(items) - 1}.")


def _check_video(source: dict) -> None:
    source_type = "video_id"
    media_id = source.get("media_id")
    if not (isinstance(media_id, str) and media_id.isascii() and media_id.isdigit()):
        raise _fail(source_type, "'media_id' must be a string of digits (the media_id of POST /v5/media).")
    covers = [name for name in COVER_FIELDS if source.get(name) is not None]
    if len(covers) > 1:
        raise _fail(source_type, f"give one cover, not {' and '.join(covers)}.")
    if source.get("cover_image_url") is not None and not is_http_url(source["cover_image_url"]):
        raise _fail(source_type, "'cover_image_url' must be an http(s) URL.")
    if source.get("cover_image_data") is not None or source.get("cover_image_content_type") is not None:
        decode_image(source_type, source.get("cover_image_content_type"), source.get("cover_image_data"), "cover")
    frame = source.get("cover_image_key_frame_time")
    if frame is not None and (type(frame) is not int or frame < 0):
        raise _fail(source_type, "'cover_image_key_frame_time' must be a whole number of seconds, at least 0.")


def check(source: Any) -> None:
    """Refuse a ``media_source`` Pinterest would refuse (the video's status is checked later)."""
    if not isinstance(source, dict):
        raise bad_request("Invalid request: 'media_source' is required and must be an object.")
    source_type = source.get("source_type")
    if source_type not in SOURCE_TYPES:
        raise bad_request(
            f"Invalid request: 'media_source.source_type' must be one of {', '.join(SOURCE_TYPES)} "
            f"(was {str(source_type)[:40]!r}; pin_url is for beta users only)."
        )
    if source.get("is_standard") is not None and not isinstance(source["is_standard"], bool):
        raise _fail(source_type, "'is_standard' must be a boolean.")
    if source_type == "image_url" and not is_http_url(source.get("url")):
        raise _fail(source_type, "'media_source.url' must be an http(s) URL.")
    if source_type == "image_base64":
        decode_image(source_type, source.get("content_type"), source.get("data"))
    if source_type in ("multiple_image_urls", "multiple_image_base64"):
        _check_items(source)
    if source_type == "video_id":
        _check_video(source)


def _hash(*parts: object) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


def _video_media(source: dict, pin_id: str, video_size: int) -> dict:
    cover_hash = _hash(pin_id, source.get("cover_image_data") or source.get("cover_image_key_frame_time") or 0)
    images = data.image_sizes(cover_hash)
    return {
        "media_type": "video",
        "cover_image_url": source.get("cover_image_url") or images["1200x"]["url"],
        "images": images,
        "width": VIDEO_WIDTH,
        "height": VIDEO_HEIGHT,
        "duration": float(max(1000, video_size // VIDEO_BYTES_PER_MS)),
    }


def pin_media(source: dict, pin_id: str, video_size: int = 0) -> tuple[dict, str]:
    """The created pin's ``media`` and ``creative_type`` for a checked ``media_source``."""
    source_type = source["source_type"]
    if source_type == "video_id":
        return _video_media(source, pin_id, video_size), "VIDEO"
    if source_type in ("multiple_image_urls", "multiple_image_base64"):
        items = [
            {
                "item_type": "image",
                "images": data.image_sizes(_hash(pin_id, i, item.get("url") or _hash(item.get("data")))),
                "title": item.get("title"),
                "description": item.get("description"),
                "link": item.get("link"),
            }
            for i, item in enumerate(source["items"])
        ]
        return {"media_type": "multiple_images", "items": items}, "CAROUSEL"
    content = source.get("url") if source_type == "image_url" else _hash(source.get("data"))
    return data.pin_media(_hash(pin_id, content)), "REGULAR"
