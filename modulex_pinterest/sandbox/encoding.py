"""Content coding of answers: gzip when the client accepts it, as Pinterest's edge does.

A JSON answer of at least ``GZIP_MIN_BYTES`` goes out gzip-compressed
(``Content-Encoding: gzip``, the Content-Length of the compressed bytes) when
the request's ``Accept-Encoding`` accepts gzip, and as it is otherwise; either
way it carries ``Vary: Accept-Encoding``, since its representation depends on
that header. Smaller bodies, non-JSON bodies and injected faults always go out
as they are.

``GZIP_MIN_BYTES`` is 1024, close to the 1,000-byte floor below which CDN edges
such as CloudFront leave an answer uncompressed: what gzip saves on a smaller
body does not pay for its framing and the time spent. So list pages (a page of
boards is ~4 KB, of pins 25-270 KB) are compressed, while single objects
(a created pin, the user account, tokens) and every error answer go out plain,
as they would from a production edge. ``GZIP_LEVEL`` is 1, the fastest (nginx's
default): about 0.5 ms for a 250-pin page (270 KB to 25 KB), against 1.2 ms at
level 6 for 20% fewer bytes, which loopback does not need.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 1
GZIP_CODINGS = ("gzip", "x-gzip")  # RFC 9110 8.4.1.3: x-gzip is gzip
QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def _qvalue(params: list[str]) -> float | None:
    """The weight of one Accept-Encoding entry (1 without ``q``); None when malformed."""
    weight = 1.0
    for param in params:
        name, eq, value = (part.strip() for part in param.partition("="))
        if name.lower() != "q" or not eq or not QVALUE.fullmatch(value):
            return None
        weight = float(value)
    return weight


def accepts_gzip(values: Iterable[str]) -> bool:
    """Whether Accept-Encoding field values (every line of the header) accept gzip.

    gzip (or x-gzip) listed with a weight above 0, or ``*`` above 0 with gzip not
    listed, accepts it; ``gzip;q=0``, an empty header or no header means identity.
    The highest weight wins when a coding is listed twice; an entry with a malformed
    weight or a parameter other than ``q`` is ignored.
    """
    gzip_q: float | None = None
    star_q: float | None = None
    for item in ",".join(values).split(","):
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        weight = _qvalue(params)
        if not coding or weight is None:
            continue
        if coding in GZIP_CODINGS:
            gzip_q = weight if gzip_q is None else max(gzip_q, weight)
        elif coding == "*":
            star_q = weight if star_q is None else max(star_q, weight)
    chosen = gzip_q if gzip_q is not None else star_q
    return chosen is not None and chosen > 0


def compressible(headers: dict[str, str], body: bytes) -> bool:
    """A JSON body large enough to compress, not already content-coded."""
    content_type = content_encoding = ""
    for name, value in headers.items():
        if name.lower() == "content-type":
            content_type = value.split(";", 1)[0].strip().lower()
        elif name.lower() == "content-encoding":
            content_encoding = value
    return (
        len(body) >= GZIP_MIN_BYTES
        and not content_encoding
        and (content_type == "application/json" or content_type.endswith("+json"))
    )


def encode(headers: dict[str, str], body: bytes, gzip_ok: bool) -> tuple[dict[str, str], bytes]:
    """The headers and wire bytes of an answer with ``body``: gzip-compressed when
    ``gzip_ok`` and the body is compressible; the same body otherwise."""
    if not compressible(headers, body):
        return headers, body
    headers = {**headers, "Vary": "Accept-Encoding"}
    if not gzip_ok:
        return headers, body
    # mtime=0: the same bytes each time, and since 3.11 one zlib call (the GIL let go once).
    return {**headers, "Content-Encoding": "gzip"}, gzip.compress(body, GZIP_LEVEL, mtime=0)
