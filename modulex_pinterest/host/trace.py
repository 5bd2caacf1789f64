"""What ``MODULEX_TRACE_HOOKS=1`` prints: each hook call and result, with no secret.

A trace is for a person debugging a host, and stderr ends up in CI logs and
bug reports, so everything printed goes through :func:`scrub`: values under a
secret-sounding key (tokens, secrets, passwords, authorization codes, whole
``credentials``) are masked wherever they sit in the arguments or the result,
and those same values are masked again wherever else they appear in the text
(an error message quoting one), along with the HTTP Basic form of an app id
and secret. The host keeps its own copy of this rule: it imports no plugin.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from typing import Any

MASK = "***"
SECRET_KEYS = re.compile(r"(?i)token|secret|password|passwd|^code$|authorization|credentials|api_key|cookie")
TOKEN_SHAPES = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def _secret_values(value: Any, under_secret: bool = False) -> Iterator[str]:
    """Every string under a secret key, however deep."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _secret_values(item, under_secret or bool(SECRET_KEYS.search(str(key))))
        if value.get("app_id") and value.get("app_secret"):
            basic = f"{value['app_id']}:{value['app_secret']}".encode()
            for encoded in (base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode()):
                yield encoded
                yield encoded.rstrip("=")
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_values(item, under_secret)
    elif under_secret and isinstance(value, str) and value:
        yield value


def _masked(value: Any) -> Any:
    """``value`` with everything under a secret key replaced by the mask."""
    if isinstance(value, Mapping):
        return {key: MASK if SECRET_KEYS.search(str(key)) else _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    return value


def scrub(label: str, value: Any, context: Any = None) -> str:
    """``label`` and ``value`` as one trace line's text, with no secret in it, nor
    any secret of ``context`` (the call's arguments, credentials included)."""
    found = {*_secret_values(value), *_secret_values(context)}
    hidden = sorted((secret for secret in found if len(secret) >= 4), key=len, reverse=True)
    text = f"{label} {_masked(value)!r}"
    for secret in hidden:
        text = text.replace(secret, MASK)
    return TOKEN_SHAPES.sub(lambda match: f"{match.group(1)} {MASK}", text)
