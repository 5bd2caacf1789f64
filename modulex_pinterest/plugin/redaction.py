"""Keep secrets out of logs, errors and reprs.

Two layers: text built by this package is passed through :func:`redact` with
the secrets of the call at hand, and a logging filter on the package's logger
masks anything shaped like a bearer token or a token field that slipped into a
log record (including from a library we call).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable
from typing import Any

from .. import MASK

_TOKEN_SHAPES = re.compile(
    r"(?i)(bearer\s+|basic\s+)[^\s,;\"']+"
    r"|((?:access_token|refresh_token|app_secret|client_secret)[\"']?\s*[:=]\s*[\"']?)[^\s&,;\"']+"
    # An authorization code as a form field or a JSON string; not Pinterest's numeric "code": 2, nor prose.
    r"|(\bcode=|\"code\"\s*:\s*\")[^\s&,;\"']+"
    r"|\bpina_[A-Za-z0-9._~+/=-]+"
    r"|\bpinr[a-z]?_[A-Za-z0-9._~+/=-]+"
)


def _mask_match(match: re.Match[str]) -> str:
    prefix = match.group(1) or match.group(2) or match.group(3) or ""
    return prefix + MASK


SECRET_FIELDS = ("access_token", "refresh_token", "app_secret")


def secrets_of(credentials: Any) -> tuple[str, ...]:
    """The secret values in a credentials dict (either mode), for :func:`redact`, in
    every form a server may echo: as given, and the app's HTTP Basic credentials
    as base64 (standard and URL-safe, with and without padding)."""
    if not isinstance(credentials, dict):
        return ()
    found = [str(credentials[name]) for name in SECRET_FIELDS if credentials.get(name)]
    if credentials.get("app_id") and credentials.get("app_secret"):
        basic = f"{credentials['app_id']}:{credentials['app_secret']}".encode()
        for encoded in (base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode()):
            found += [encoded, encoded.rstrip("=")]
    return tuple(dict.fromkeys(found))


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """``text`` with every given secret and every token-shaped string masked."""
    text = str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return _TOKEN_SHAPES.sub(_mask_match, text)


class RedactingFilter(logging.Filter):
    """Masks token-shaped strings in every record that passes through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_filter(logger_name: str = "modulex_pinterest") -> logging.Logger:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
