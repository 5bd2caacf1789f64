"""Bodies as they arrive: the ``Content-Encoding`` undone within a size limit, strict JSON,
and strict numbers in headers.

The client offers ``gzip`` and ``deflate`` and reads the raw stream itself
(a read bounded by the deadline), so it decodes here: piece by piece, never
producing more than the limit, so a decompression bomb is refused after the
limit rather than inflated.
"""

from __future__ import annotations

import json
import math
import zlib
from typing import Any

from ..messages import MAX_SHOWN_NAME

ACCEPTED_ENCODINGS = "gzip, deflate"
MAX_HEADER_DIGITS = 18  # a length or a count in a header: beyond this it is no number the plugin uses


class Decoder:
    """The body's ``Content-Encoding`` undone piece by piece, never producing
    more than ``limit`` bytes in all (a 1 GiB decompression bomb is refused
    after ``limit``, not inflated)."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise ValueError(
                f"the response is encoded as {encoding[:MAX_SHOWN_NAME]!r}, which was not offered "
                f"({ACCEPTED_ENCODINGS})"
            )
        self._encoding = encoding
        self._inflate: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
        self._limit = limit
        self.size = 0

    def feed(self, data: bytes) -> bytes:
        """Decoded bytes of ``data``; OverflowError past the limit, ValueError for a corrupt stream."""
        if self._encoding == "deflate" and self._inflate is None:
            # "deflate" is zlib-wrapped by the RFC, raw deflate from some servers: tell by the zlib header.
            zlib_wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        if self._inflate is None:
            return self._count(data)
        pieces = []
        try:
            while data:
                pieces.append(self._count(self._inflate.decompress(data, self._limit - self.size + 1)))
                data = self._inflate.unconsumed_tail
        except zlib.error:
            raise ValueError("the compressed response is corrupt") from None
        return b"".join(pieces)

    def finish(self) -> None:
        if self._inflate is not None and not self._inflate.eof:
            raise ValueError("the compressed response ended early")

    def _count(self, piece: bytes) -> bytes:
        self.size += len(piece)
        if self.size > self._limit:
            raise OverflowError
        return piece


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large for a float")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: ``NaN``, ``Infinity`` and numbers beyond a float (``1e999``) are refused, since no
    output may carry them (they are not JSON, and a host would print them as such)."""
    return json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)


def header_number(value: str | None) -> int | None:
    """A header's whole number (``Content-Length``), or None when absent or malformed.

    ASCII digits only, between optional spaces or tabs (the header's own
    whitespace): ``str.isdigit`` and ``int`` take Unicode digits (``"²³"``,
    ``"١٢"``), ``int`` also a sign, inner underscores and spaces around it,
    and no header value may raise here (``int`` refuses over 4300 digits).
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if not 0 < len(text) <= MAX_HEADER_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)
