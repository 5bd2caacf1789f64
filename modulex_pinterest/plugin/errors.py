"""What can go wrong, as types. The words for people are in :mod:`.messages`.

Three kinds of failure reach the hooks, each turned into an output value there:
inputs that break the schema (:class:`InputError`), credentials or settings
that cannot be used (:class:`CredentialError`, :class:`RefreshError`), and
calls that produced no usable answer (:class:`ApiError`, with an
:class:`ErrorKind`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class InputError(ValueError):
    """Inputs that break the action's input schema; the message names the field and the rule."""


class CredentialError(ValueError):
    """Credentials or settings that cannot be used; the message never contains a secret."""


class SettingsError(CredentialError):
    """Host settings the plugin refuses (a bad ``base_url``, a negative ``timeout``): the caller's
    configuration, not the credentials; reported with ``kind: "settings"``."""


class RefreshError(Exception):
    """A refresh that failed; the message is for people and holds no secret.

    ``retryable``: the same call later may succeed and cannot burn the grant
    (another worker held the lease, the store failed, nothing reached the token
    endpoint, or it answered 429). A refresh whose outcome is unknown is not:
    Pinterest may have rotated the refresh token that a retry would present.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ErrorKind(str, Enum):
    """What happened to a call that did not produce a usable response."""

    HTTP = "http"  # an answer with a non-2xx status
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    BAD_RESPONSE = "bad_response"  # a 2xx answer whose body is not what the API promises
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"  # the shared rate budget had no room in time: nothing was sent
    HOST = "host"  # a service the host offers (its rate budget) failed: nothing was sent


class ApiError(Exception):
    """A call that did not produce a usable response.

    ``sent`` says whether the request may have reached Pinterest (``False``:
    certainly not, ``None``: unknown, ``True``: it did), which decides whether a
    create may be resent and whether its failure message warns of a duplicate.
    """

    def __init__(
        self,
        kind: ErrorKind,
        detail: str,
        *,
        status: int | None = None,
        code: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        sent: bool | None = None,
        oauth_error: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status
        self.code = code  # Pinterest's own error code from the body, when there is one
        self.message = message  # Pinterest's message, already redacted
        self.retry_after = retry_after
        self.sent = sent
        self.oauth_error = oauth_error  # the OAuth "error" field of a token endpoint's answer, e.g. "invalid_grant"
        # A whole-list fetch that failed after some pages: what it fetched, and the bookmark of the page that failed.
        self.partial: tuple[list[dict[str, Any]], str | None] | None = None
        # A media action's step that failed before the pin was sent ("uploading the video"): no pin can exist.
        self.step: str | None = None
        # Output fields a failed media action still returns (the media_id a later run resumes with).
        self.extra: dict[str, Any] | None = None

    @property
    def in_transit(self) -> bool:
        """The exchange broke on the way (timeout or connection), not at the server's word."""
        return self.kind in (ErrorKind.TIMEOUT, ErrorKind.CONNECTION)

    @property
    def may_have_acted(self) -> bool:
        """Pinterest may have acted on the request: it may have arrived, and no
        answer said it was refused (no answer at all, a 5xx, or a 2xx whose
        body could not be used)."""
        if self.sent is False:
            return False
        return self.status is None or self.status >= 500 or 200 <= self.status < 300


RETRYABLE_STATUSES = frozenset({408, 429})  # and every 5xx: answers a later attempt may not get


def failure_report(error: Exception, *, idempotent: bool) -> dict[str, Any]:
    """How an action failed, for a host deciding whether to run it again (the contract's
    ``FailureReport``). ``idempotent``: the action's request may be repeated safely (not a create)."""
    if isinstance(error, ApiError):
        return {
            "kind": error.kind.value,
            "status": error.status,
            "retry_after": error.retry_after,
            "retryable": _api_retryable(error, idempotent),
        }
    if isinstance(error, RefreshError):
        return {"kind": "refresh", "status": None, "retry_after": None, "retryable": error.retryable}
    kind = "input" if isinstance(error, InputError) else "credentials"
    if isinstance(error, SettingsError):
        kind = "settings"
    return {"kind": kind, "status": None, "retry_after": None, "retryable": False}


def _api_retryable(error: ApiError, idempotent: bool) -> bool:
    if error.may_have_acted and not idempotent and error.step is None:
        return False  # a create that may have happened (a failed media step never sent the create)
    if error.kind is ErrorKind.HTTP:
        return error.status is not None and (error.status in RETRYABLE_STATUSES or error.status >= 500)
    return error.kind is not ErrorKind.TOO_LARGE
