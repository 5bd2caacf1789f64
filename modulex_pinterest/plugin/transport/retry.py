"""When to send again, how long to wait, and the shared rate budget.

Requests are resent on connection errors, timeouts, and the statuses in
:data:`~..errors.RETRYABLE_STATUSES`, as the method's ``request_semantics``
in plugin.yaml allow: one that may not be resent (a create) is sent again
only when Pinterest certainly did not act on it (a 429, a connection never
made). Waits come from ``Retry-After`` / ``X-RateLimit-Reset`` when the
server gives them, else from jittered exponential backoff, and never run
past the action's deadline or ``max_retry_wait``. (urllib3's ``Retry`` does
not fit: a malformed ``Retry-After`` raises out of the call, long waits are
capped and retried instead of failing fast, and the last error loses the
body with Pinterest's error code.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from ...contract import RateBudget
from ..errors import RETRYABLE_STATUSES, ApiError, HostFailure
from ..messages import MAX_DETAIL
from ..redaction import install_log_filter
from ..settings import Settings

log = install_log_filter(__name__)

BACKOFF_CAP = 8.0
EPOCH_THRESHOLD = 1e9  # an X-RateLimit-Reset above this is a timestamp, below it a number of seconds


def backoff(settings: Settings, attempt: int) -> float:
    """The longest backoff before attempt ``attempt + 1`` (the wait is a random part of it)."""
    return float(min(BACKOFF_CAP, settings.backoff * (2**attempt)))


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from Retry-After or X-RateLimit-Reset; None if neither is usable."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    reset = headers.get("X-RateLimit-Reset", "").strip()
    if reset:
        try:
            seconds = float(reset)
        except ValueError:
            return None
        return max(0.0, seconds - now) if seconds > EPOCH_THRESHOLD else max(0.0, seconds)
    return None


def never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when a ConnectionError certainly happened before the request left
    (safe to resend a POST): the connection itself was never made."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, NameResolutionError)):
            return True
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return False


def retry_wait(
    error: ApiError,
    attempt: int,
    resend: bool,
    settings: Settings,
    *,
    seconds_left: float,
    rand: Callable[[], float],
) -> float | None:
    """How long to wait before trying again, or None to give up now."""
    if attempt >= settings.max_retries:
        return None
    if not (error.in_transit or error.status in RETRYABLE_STATUSES):
        return None
    if not resend and error.may_have_acted:
        return None
    wait = error.retry_after if error.retry_after is not None else rand() * backoff(settings, attempt)
    if wait > settings.max_wait or wait >= seconds_left:
        return None
    return wait


class Pacing:
    """The host's shared rate budget, as one grant's client uses it.

    Before each request it reserves a slot for the request's rate-limit
    category; a 429 or an exhausted ``X-RateLimit-Remaining`` pauses every
    worker sharing the grant.
    """

    def __init__(self, budget: RateBudget, grant: str, rate: float) -> None:
        self._budget = budget
        self._grant = grant
        self._rate = rate

    def __repr__(self) -> str:
        return f"Pacing({self._rate:g}/s)"

    def _key(self, category: str) -> str:
        return f"{self._grant}:{category}"

    def reserve(self, category: str, max_wait: float) -> float:
        try:
            return self._budget.reserve(self._key(category), self._rate, max_wait)
        except Exception as exc:  # noqa: BLE001 - any host's budget may fail its own way: say whose failure it is
            raise HostFailure(
                f"the host's rate budget failed ({type(exc).__name__}: {str(exc)[:MAX_DETAIL]})",
                sent=False,
            ) from None

    def pause(self, category: str, seconds: float) -> None:
        """Advisory: a budget that cannot take the pause only costs the other workers a 429 of their own."""
        try:
            self._budget.pause(self._key(category), seconds)
        except Exception as exc:  # noqa: BLE001
            log.warning("the host's rate budget could not pause (%s)", type(exc).__name__)
