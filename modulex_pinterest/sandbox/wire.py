"""What the endpoints share: the request and response records, JSON bodies, id and URL checks.

Kept apart from ``api.py`` so the endpoint modules (``api.py``, ``manage.py``)
can share them without importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeGuard
from urllib.parse import parse_qs, urlsplit

from .errors import ApiError, bad_request

JSON = "application/json"
# The string fields of PinCreate and PinUpdate and their maxLength in the spec.
PIN_TEXT_LIMITS: dict[str, int | None] = {
    "title": 100,
    "description": 800,
    "alt_text": 500,
    "link": 2048,
    "dominant_color": None,
}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    app_id: str | None = None  # the bearer token's app, once checked

    def arg(self, name: str) -> str | None:
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else None


def dumps(obj: object) -> bytes:
    """Every JSON body the sandbox sends: compact, UTF-8."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(status: int, obj: object) -> Response:
    return Response(status, dumps(obj), {"Content-Type": JSON})


def error_response(err: ApiError) -> Response:
    resp = json_response(err.status, err.body())
    resp.headers.update(err.headers)
    return resp


def is_digits(value: object) -> bool:
    """IDs are ASCII digits only: no sign, no newline, no other scripts' digits."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def is_http_url(value: object) -> TypeGuard[str]:
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def json_body(req: Request, what: str) -> dict:
    """The request's JSON object body: 415 unless application/json, 400 unless an object."""
    content_type = req.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != JSON:
        raise ApiError(415, 1, f"Unsupported Content-Type: send the {what} as application/json.")
    try:
        body = json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Invalid request: the body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("Invalid request: the body must be a JSON object.")
    return body


def check_pin_text(body: dict, names: tuple[str, ...] = tuple(PIN_TEXT_LIMITS)) -> None:
    """The pin's text fields in ``names``: strings (or null) within the spec's maxLength; an http(s) link."""
    for name in names:
        value, limit = body.get(name), PIN_TEXT_LIMITS[name]
        if value is None:
            continue
        if not isinstance(value, str):
            raise bad_request(f"Invalid request: '{name}' must be a string.")
        if limit is not None and len(value) > limit:
            raise bad_request(f"Invalid request: '{name}' is too long ({len(value)} characters, at most {limit}).")
    if "link" in names and body.get("link") is not None and not is_http_url(body["link"]):
        raise bad_request("Invalid request: 'link' must be an http(s) URL.")


# (path pattern, method, required scopes or None for no bearer auth, handler)
Route = tuple[str, str, "tuple[str, ...] | None", Callable[[Request], Response]]
