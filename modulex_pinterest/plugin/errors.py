"""What can go wrong, as a tree of types. The words for people are in :mod:`.messages`.

Every failure the service turns into an output value is a :class:`PluginError`::

    PluginError
    ├── InputError            inputs that break the action's schema or rules
    ├── CredentialError       credentials that cannot be used
    │   └── SettingsError     host settings the plugin refuses
    ├── RefreshError          an OAuth refresh that failed
    └── ApiError              a call that produced no usable answer
        ├── StatusError       an answer with a non-2xx status
        ├── TransportError    no whole answer: it may or may not have arrived
        │   ├── TimedOut
        │   └── ConnectionFailed
        ├── BadResponse       a 2xx answer that is not what the API promises
        │   └── TooLarge
        ├── RateLimited       the shared budget had no room in time: nothing sent
        └── HostFailure       the host's rate budget failed: nothing sent

What an action achieved before it failed is not attached to these: a handler
returns it as a :class:`~.run.Failed` value.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar


class PluginError(Exception):
    """Anything the plugin reports as a failed output rather than a bug."""


class InputError(PluginError, ValueError):
    """Inputs that break the action's input schema; the message names the field and the rule."""


class CredentialError(PluginError, ValueError):
    """Credentials or settings that cannot be used; the message never contains a secret."""


class SettingsError(CredentialError):
    """Host settings the plugin refuses (a bad ``base_url``, a negative ``timeout``): the caller's
    configuration, not the credentials; reported with ``kind: "settings"``."""


class RefreshError(PluginError):
    """A refresh that failed; the message is for people and holds no secret.

    ``retryable``: the same call later may succeed and cannot burn the grant
    (another worker held the lease, the store failed, nothing reached the token
    endpoint, or it answered 429). A refresh whose outcome is unknown is not:
    Pinterest may have rotated the refresh token that a retry would present.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.dead_grant = ""  # why, when Pinterest rejected the refresh token itself (invalid_grant)


class ErrorKind(str, Enum):
    """What happened to a call that did not produce a usable response: the ``kind`` of a failure report."""

    HTTP = "http"  # an answer with a non-2xx status
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    BAD_RESPONSE = "bad_response"  # a 2xx answer whose body is not what the API promises
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"  # the shared rate budget had no room in time: nothing was sent
    HOST = "host"  # a service the host offers (its rate budget) failed: nothing was sent


class ApiError(PluginError):
    """A call that did not produce a usable response; caught by class (see the tree above).

    ``sent`` says whether the request may have reached Pinterest (``False``:
    certainly not, ``None``: unknown, ``True``: it did), which decides whether a
    create may be resent and whether its failure message warns of a duplicate.
    """

    kind: ClassVar[ErrorKind]

    def __init__(
        self,
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
        self.detail = detail
        self.status = status
        self.code = code  # Pinterest's own error code from the body, when there is one
        self.message = message  # Pinterest's message, already redacted
        self.retry_after = retry_after
        self.sent = sent
        self.oauth_error = oauth_error  # the OAuth "error" field of a token endpoint's answer, e.g. "invalid_grant"
        # The base_url setting the request was sent under (set by the client; None for a URL outside it,
        # such as a token_url set apart), so that a message can name a server that is not Pinterest's.
        self.base_url: str | None = None
        # Who the request went to when it was not the API at all (a video_url's server), for messages.
        self.server: str | None = None

    @property
    def in_transit(self) -> bool:
        """The exchange broke on the way (timeout or connection), not at the server's word."""
        return isinstance(self, TransportError)

    @property
    def may_have_acted(self) -> bool:
        """Pinterest may have acted on the request: it may have arrived, and no
        answer said it was refused (no answer at all, a 5xx, or a 2xx whose
        body could not be used)."""
        if self.sent is False:
            return False
        return self.status is None or self.status >= 500 or 200 <= self.status < 300


class StatusError(ApiError):
    """An answer with a non-2xx status, with Pinterest's code and message when it gave them."""

    kind = ErrorKind.HTTP


class TransportError(ApiError):
    """No (whole) answer: the request may or may not have arrived (``sent``)."""


class TimedOut(TransportError):
    kind = ErrorKind.TIMEOUT


class ConnectionFailed(TransportError):
    kind = ErrorKind.CONNECTION


class BadResponse(ApiError):
    """A 2xx answer whose body is not what the API promises."""

    kind = ErrorKind.BAD_RESPONSE


class TooLarge(BadResponse):
    kind = ErrorKind.TOO_LARGE


class RateLimited(ApiError):
    """The shared rate budget had no room before the deadline: nothing was sent."""

    kind = ErrorKind.RATE_LIMITED


class HostFailure(ApiError):
    """A service the host offers (its rate budget) failed: nothing was sent."""

    kind = ErrorKind.HOST


RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Answers a later attempt may not get: the client resends on them (as its method's semantics allow),
and a failure report calls them retryable. The one set."""


def failure_report(error: Exception, *, rerun: bool, step: str | None = None) -> dict[str, Any]:
    """How an action failed, for a host deciding whether to run it again (the contract's
    ``FailureReport``). ``rerun``: the action's request semantics allow running it again after
    an unknown outcome; ``step``: the failure came before the action's main request was sent."""
    if isinstance(error, ApiError):
        return {
            "kind": error.kind.value,
            "status": error.status,
            "retry_after": error.retry_after,
            "retryable": _api_retryable(error, rerun or step is not None),
        }
    if isinstance(error, RefreshError):
        return {"kind": "refresh", "status": None, "retry_after": None, "retryable": error.retryable}
    kind = "input" if isinstance(error, InputError) else "credentials"
    if isinstance(error, SettingsError):
        kind = "settings"
    return {"kind": kind, "status": None, "retry_after": None, "retryable": False}


def _api_retryable(error: ApiError, rerun: bool) -> bool:
    if error.may_have_acted and not rerun:
        return False  # e.g. a create that may have happened: running it again could duplicate it
    if isinstance(error, StatusError):
        return error.status in RETRYABLE_STATUSES
    return not isinstance(error, TooLarge)
