"""Failed calls as text for the person who built the workflow.

One place decides the wording, sorted by what the caller should do. Every
message names the HTTP status and Pinterest's code and message when there are
any, is bounded in length, and is redacted before it leaves the plugin.
"""

from . import manifest
from .redaction import redact

MAX_ERROR_LENGTH = 600
TRIAL_ACCESS_CODE = 29
SCOPE_CODE = 3


def _status_note(error):
    parts = [f"HTTP {error.status}"] if error.status else []
    if error.code is not None:
        parts.append(f"Pinterest code {error.code}")
    note = ", ".join(parts)
    if error.message:
        note = f"{note}: {error.message}" if note else error.message
    return f" ({note})" if note else ""


def _when(seconds):
    if seconds is None:
        return "retry later"
    if seconds < 120:
        return f"retry after {seconds:.0f} seconds"
    if seconds < 7200:
        return f"retry after {seconds / 60:.0f} minutes"
    return f"retry after {seconds / 3600:.1f} hours"


def is_scope_error(error):
    """A 401 for a missing scope: no new token fixes it, only a new authorization."""
    return error.code == SCOPE_CODE or "scope" in (error.message or "").lower()


def _auth_reason(error, scopes):
    text = (error.message or "").lower()
    if is_scope_error(error):
        return f"the token lacks a required scope (this action needs {' '.join(scopes)})"
    if "expired" in text:
        return "the access token has expired"
    if "invalid" in text or error.code == 2:
        return "the access token is invalid or expired"
    return "Pinterest rejected the access token"


def _not_found(context):
    board_id = context.get("board_id")
    section_id = context.get("board_section_id")
    if board_id and section_id:
        return f"Board {board_id} or its section {section_id} not found"
    if board_id:
        return f"Board {board_id} not found"
    return "Not found"


def describe(error, context, secrets=()):
    """A one-paragraph message for ``error`` (an ApiError) in an action's ``context``.

    ``context`` holds ``action``, ``scopes`` and the checked inputs (board_id,
    board_section_id) so a 404 can say what was not found.
    """
    status = error.status
    note = _status_note(error)
    if error.kind == "timeout":
        text = f"Request to Pinterest timed out: {error.detail}"
    elif error.kind == "connection":
        text = f"Could not reach Pinterest: {error.detail}"
    elif error.kind == "rate_limited":
        text = f"Rate limited before sending: {error.detail}; nothing was sent, {_when(error.retry_after)}"
    elif error.kind in ("bad_response", "too_large"):
        text = f"Pinterest returned an unusable response{note}: {error.detail}"
    elif status == 401:
        text = f"Authentication failed: {_auth_reason(error, context.get('scopes', ()))}{note}"
    elif status == 403 and error.code == TRIAL_ACCESS_CODE:
        text = (f"Permission denied{note}. Apps with trial access may only write to Pinterest's sandbox: "
                f"set base_url to {manifest.raw_manifest()['api']['sandbox_base_url']} (with a sandbox token), or apply for standard access")
    elif status == 403:
        text = f"Permission denied: the account may not do this on that board{note}"
    elif status == 404:
        text = f"{_not_found(context)}{note}"
    elif status == 400 and context.get("action") == "create_pin":
        text = (f"Pinterest rejected the pin{note}. Check that media_url is a publicly reachable image URL "
                f"and that board_id (and board_section_id) are correct")
    elif status == 400:
        text = f"Pinterest rejected the request{note}"
    elif status == 429:
        text = f"Rate limited by Pinterest{note}; {_when(error.retry_after)}"
    elif status is not None and status >= 500:
        text = f"Pinterest server error{note}"
    else:
        text = f"Unexpected response from Pinterest{note}"
    if context.get("action") == "create_pin" and error.sent is not False and (
        error.kind in ("timeout", "connection") or (status is not None and status >= 500)
    ):
        text += ("; the pin may or may not have been created: check the board before retrying, "
                 "since resending could create a duplicate")
    text = redact(text, secrets)
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 3] + "..."
