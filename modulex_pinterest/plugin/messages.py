"""Failed calls as text for the person who built the workflow.

One place decides the wording, sorted by what the caller should do. Every
message names the HTTP status and Pinterest's code and message when there are
any, is bounded in length, and is redacted before it leaves the plugin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import manifest
from .errors import ApiError, ErrorKind
from .redaction import redact

# How much of any text the plugin echoes: a whole error, a server's message, a
# detail inside a message, a value the user passed, a name the user passed.
MAX_ERROR_LENGTH = 600
MAX_SERVER_MESSAGE = 300
MAX_DETAIL = 200
MAX_SHOWN_VALUE = 60
MAX_SHOWN_NAME = 40

# Pinterest's own error codes (the body's "code"), from its OpenAPI description.
AUTHENTICATION_CODE = 2
SCOPE_CODE = 3
TRIAL_ACCESS_CODE = 29


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with "..." when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip_middle(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters in the middle, so that both its start and its
    end survive (a host's error often names a long path first and says why last)."""
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


def shown(value: Any) -> str:
    """A value the user passed, as it appears in a message: its repr, clipped."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[:MAX_SHOWN_VALUE] + "...'"


def internal_error(exc: BaseException) -> str:
    """A bug or a host's failure, named by type only (its text may hold anything)."""
    return f"Internal error in the Pinterest plugin ({type(exc).__name__})"


def _status_note(error: ApiError) -> str:
    parts = [f"HTTP {error.status}"] if error.status else []
    if error.code is not None:
        parts.append(f"Pinterest code {error.code}")
    note = ", ".join(parts)
    if error.message:
        note = f"{note}: {error.message}" if note else error.message
    return f" ({note})" if note else ""


def plural(count: float, unit: str, digits: int = 0) -> str:
    """``1 second``, ``2 seconds``, ``1.5 hours``: a count rounded to ``digits``, with its unit."""
    shown_count = f"{count:.{digits}f}"
    return f"{shown_count} {unit}" if float(shown_count) == 1 else f"{shown_count} {unit}s"


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "retry later"
    if seconds < 120:
        return f"retry after {plural(max(1.0, seconds), 'second')}"
    if seconds < 7200:
        return f"retry after {plural(seconds / 60, 'minute')}"
    return f"retry after {plural(seconds / 3600, 'hour', 1)}"


def is_scope_error(error: ApiError) -> bool:
    """A 401 for a missing scope: no new token fixes it, only a new authorization."""
    return error.code == SCOPE_CODE or "scope" in (error.message or "").lower()


def _auth_reason(error: ApiError, scopes: Iterable[str]) -> str:
    text = (error.message or "").lower()
    if is_scope_error(error):
        return f"the token lacks a required scope (this action needs {' '.join(scopes)})"
    if "expired" in text:
        return "the access token has expired"
    if "invalid" in text or error.code == AUTHENTICATION_CODE:
        return "the access token is invalid or expired"
    return "Pinterest rejected the access token"


def _not_found(context: Mapping[str, Any]) -> str:
    board_id = context.get("board_id")
    section_id = context.get("board_section_id")
    pin_id = context.get("pin_id")
    if pin_id and board_id:
        if section_id:
            return f"Pin {pin_id}, board {board_id} or its section {section_id} not found"
        return f"Pin {pin_id} or board {board_id} not found"
    if pin_id:
        return f"Pin {pin_id} not found"
    if board_id and section_id:
        return f"Board {board_id} or its section {section_id} not found"
    if board_id:
        return f"Board {board_id} not found"
    return "Not found"


def _creates_pin(context: Mapping[str, Any]) -> bool:
    """The action ends in ``POST /pins`` (create_pin and the media actions), by its manifest entry."""
    entry = manifest.actions_by_name().get(str(context.get("action")))
    request = (entry or {}).get("request") or {}
    return request.get("method") == "POST" and request.get("path") == "/pins"


def api_error_message(error: ApiError, context: Mapping[str, Any], secrets: Iterable[str] = ()) -> str:
    """A one-paragraph message for ``error`` in an action's ``context``.

    ``context`` holds ``action``, ``scopes`` and the checked inputs (pin_id,
    board_id, board_section_id) so a 404 can say what was not found.
    """
    status = error.status
    note = _status_note(error)
    if error.kind is ErrorKind.TIMEOUT:
        text = f"Request to Pinterest timed out: {error.detail}"
    elif error.kind is ErrorKind.CONNECTION:
        text = f"Could not reach Pinterest: {error.detail}"
    elif error.kind is ErrorKind.HOST:
        text = f"Not sent: {error.detail}; this is the host's failure, not Pinterest's"
    elif error.kind is ErrorKind.RATE_LIMITED:
        text = f"Rate limited before sending: {error.detail}; nothing was sent, {_when(error.retry_after)}"
    elif error.kind in (ErrorKind.BAD_RESPONSE, ErrorKind.TOO_LARGE):
        text = f"Pinterest returned an unusable response{note}: {error.detail}"
    elif status == 401:
        text = f"Authentication failed: {_auth_reason(error, context.get('scopes', ()))}{note}"
    elif status == 403 and error.code == TRIAL_ACCESS_CODE:
        text = (
            f"Permission denied{note}. Apps with trial access may only write to Pinterest's sandbox: "
            f"set base_url to {manifest.raw_manifest()['api']['sandbox_base_url']} (with a sandbox token), "
            "or apply for standard access"
        )
    elif status == 403:
        text = f"Permission denied: the account may not do this on that board{note}"
    elif status == 404 and error.step and context.get("media_id"):
        text = f"Media upload {context['media_id']} not found{note}"
    elif status == 404:
        text = f"{_not_found(context)}{note}"
    elif status == 400 and context.get("action") == "create_pin":
        text = (
            f"Pinterest rejected the pin{note}. Check that media_url is a publicly reachable image URL "
            f"and that board_id (and board_section_id) are correct"
        )
    elif status == 400 and _creates_pin(context) and error.step is None:
        text = (
            f"Pinterest rejected the pin{note}. Check the media (type, size, a public URL) "
            f"and that board_id (and board_section_id) are correct"
        )
    elif status == 400:
        text = f"Pinterest rejected the request{note}"
    elif status == 429:
        text = f"Rate limited by Pinterest{note}; {_when(error.retry_after)}"
    elif status is not None and status >= 500:
        text = f"Pinterest server error{note}"
    else:
        text = f"Unexpected response from Pinterest{note}"
    if error.step:
        text = f"While {error.step}: {text}; no pin was created"
    elif _creates_pin(context) and error.may_have_acted:
        text += (
            "; the pin may or may not have been created: check the board before retrying, "
            "since resending could create a duplicate"
        )
    return clip(redact(text, secrets), MAX_ERROR_LENGTH)
