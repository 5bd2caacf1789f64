"""Failed calls as text for the person who built the workflow.

One place decides the wording, sorted by what the caller should do. Every
message names the HTTP status and Pinterest's code and message when there are
any, is bounded in length, and is redacted before it leaves the plugin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..contract import SETTING_WORDS
from .errors import ApiError, ErrorKind
from .redaction import redact
from .spec import manifest
from .spec.model import Action

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


VERSION_SEGMENT = re.compile(r"v[0-9]+")


def setting(name: str) -> str:
    """How every message names a host setting: ``setting 'file_roots'``
    (:data:`~...contract.SETTING_WORDS`)."""
    return SETTING_WORDS.format(name=name)


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


def host_failure(exc: BaseException) -> str:
    """A host's exception (its credential store's, say) as a message shows it: its text, which a host
    writes for people, clipped in the middle; its type's name only when it has no text."""
    text = " ".join(str(exc).split())
    return clip_middle(text, MAX_SERVER_MESSAGE) if text else type(exc).__name__


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
        return "the access token was refused: it has expired or been revoked, or it is not a Pinterest token"
    return f"{_server(error)} refused the access token"


def _auth_next(error: ApiError) -> str:
    """What to do about a 401, in words any host can use."""
    if is_scope_error(error):
        return ". Authorize the app again, granting that scope"
    return (
        ". A new access token is needed: authorize the app again (a new OAuth 2.0 grant) or pass a current access token"
    )


def _server(error: ApiError) -> str:
    """Who the request went to: Pinterest, or the base URL when the host set another (a sandbox, a proxy),
    or the server named on the error (a download's)."""
    if error.server is not None:
        return error.server
    base = error.base_url
    return "Pinterest" if base is None or base == manifest.spec().base_url.rstrip("/") else base


def _no_version(error: ApiError) -> str:
    """For a 404 under a base URL whose path does not end in a version segment (``/v5``): the URL
    probably meant. A hint, not a refusal of the setting: a proxy's URL may legitimately differ."""
    base = error.base_url
    version = urlsplit(manifest.spec().base_url).path.rstrip("/")  # "/v5"
    if not base or not version or VERSION_SEGMENT.fullmatch(urlsplit(base).path.rstrip("/").rpartition("/")[2]):
        return ""
    return f"; the base URL {base} has no {version}: did you mean {base}{version}?"


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


def _creates_pin(action: Action | None) -> bool:
    """The action's request creates a pin (create_pin and the media actions)."""
    return action is not None and action.subject == "pin" and action.request.may_have == "created"


def _may_have_acted(action: Action | None) -> str:
    """The warning for a request whose answer was lost, when running it again could do harm."""
    if action is None or action.request.semantics.rerun or action.request.may_have is None:
        return ""
    subject = action.subject or "request"
    where = "the board" if _creates_pin(action) else f"whether the {subject} exists"
    return (
        f"; the {subject} may or may not have been {action.request.may_have}: check {where} before retrying, "
        f"since running it again could {'create a duplicate' if action.request.method == 'POST' else 'repeat it'}"
    )


def _rejected(error: ApiError, note: str, context: Mapping[str, Any], action: Action | None) -> str:
    """A 400's wording: what to check depends on what the action sends."""
    if not _creates_pin(action):
        return f"Pinterest rejected the request{note}"
    media = (
        "that media_url is a publicly reachable image URL"
        if "media_url" in context
        else "the media (type, size, a public URL)"
    )
    return f"Pinterest rejected the pin{note}. Check {media} and that board_id (and board_section_id) are correct"


def _too_large(error: ApiError, note: str) -> str:
    """A 413: the server (Pinterest, or a proxy or stand-in before it) refused the body's size; the
    body's size (the detail says it when known), the server's limit (its message) and Pinterest's own."""
    size = error.detail.partition(": ")[2] if error.detail.startswith("HTTP 413: ") else ""
    limits = manifest.spec().media_limits
    return (
        f"The server refused the request as too large{note}{'; ' + size if size else ''}. Pinterest takes "
        f"images up to {limits.image_max_bytes // 2**20} MB and videos up to {limits.video_max_bytes // 2**30} GB: "
        "send a smaller file or a public image URL; if the server is not Pinterest (a proxy, a test server), "
        "raise its limit"
    )


def _answer_text(error: ApiError, context: Mapping[str, Any], action: Action | None, step: str | None) -> str:
    status = error.status
    note = _status_note(error)
    if error.kind is ErrorKind.TIMEOUT:
        return f"Request to {_server(error)} timed out: {error.detail}"
    if error.kind is ErrorKind.CONNECTION:
        return f"Could not reach {_server(error)}: {error.detail}"
    if error.kind is ErrorKind.HOST:
        return f"Not sent: {error.detail}; this is the host's failure, not Pinterest's"
    if error.kind is ErrorKind.RATE_LIMITED:
        return f"Rate limited before sending: {error.detail}; nothing was sent, {_when(error.retry_after)}"
    if error.kind in (ErrorKind.BAD_RESPONSE, ErrorKind.TOO_LARGE):
        return f"Pinterest returned an unusable response{note}: {error.detail}"
    if status == 401:
        return f"Authentication failed: {_auth_reason(error, context.get('scopes', ()))}{note}{_auth_next(error)}"
    if status == 403 and error.code == TRIAL_ACCESS_CODE:
        return (
            f"Permission denied{note}. Apps with trial access may only write to Pinterest's sandbox: "
            f"set {setting('base_url')} to {manifest.spec().sandbox_base_url} (with a sandbox token), "
            "or apply for standard access"
        )
    if status == 403:
        return f"Permission denied: the account may not do this on that board{note}"
    if status == 404 and step and context.get("media_id"):
        return f"Media upload {context['media_id']} not found{note}"
    if status == 404:
        return f"{_not_found(context)}{note}{_no_version(error)}"
    if status == 400:
        return _rejected(error, note, context, None if step else action)
    if status == 413:
        return _too_large(error, note)
    if status == 429:
        return f"Rate limited by Pinterest{note}; {_when(error.retry_after)}"
    if status is not None and status >= 500:
        return f"Pinterest server error{note}"
    return f"Unexpected response from Pinterest{note}"


def api_error_message(
    error: ApiError,
    context: Mapping[str, Any],
    secrets: Iterable[str] = (),
    *,
    action: Action | None = None,
    step: str | None = None,
) -> str:
    """A one-paragraph message for ``error`` of ``action`` (when it is an action's).

    ``context`` holds ``scopes`` and the checked inputs (pin_id, board_id,
    board_section_id) so a 404 can say what was not found. ``step`` names a step
    before the action's main request: then that request was never sent.
    """
    text = _answer_text(error, context, action, step)
    if step:
        text = f"While {step}: {text}; no {action.subject if action and action.subject else 'pin'} was created"
    elif error.may_have_acted:
        text += _may_have_acted(action)
    return clip(redact(text, secrets), MAX_ERROR_LENGTH)
