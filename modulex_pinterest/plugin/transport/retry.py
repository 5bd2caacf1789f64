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

import re
import time
from collections.abc import Callable, Mapping
from datetime import timezone
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
PAUSE_CEILING = 300.0
"""The longest pause of the shared budget a server's answer can cause, in
seconds, whatever ``max_retry_wait`` says (the hosts' budgets clamp again)."""
LATE_SLOT = 0.025
"""Seconds after its budget slot that a woken request may still go; later, it takes a new slot
(the host's budgets leave 50 ms of headroom for arrival jitter: half for this, half for the rest)."""
LATE_RESERVES = 3  # slots one request may take, the last one used however late
EPOCH_SECONDS = 1e9  # an X-RateLimit-Reset at or above this is a time (epoch seconds, 2001 on), below it a delay
EPOCH_MILLISECONDS = 1e11  # ... at or above this, epoch milliseconds (1973 on): in seconds, the year 5138
# Retry-After's delay-seconds and X-RateLimit-Reset: ASCII digits, and (liberally: harmless, and some
# servers send it) a decimal fraction; never a sign, an exponent, inf, nan or another script's digits.
_SECONDS = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,9})?", re.ASCII)


def backoff(settings: Settings, attempt: int) -> float:
    """The longest backoff before attempt ``attempt + 1`` (the wait is a random part of it)."""
    return float(min(BACKOFF_CAP, settings.backoff * (2**attempt)))


def _http_date(value: str, now: float) -> float | None:
    """Seconds until an HTTP date (RFC 9110 section 5.6.7: IMF-fixdate, or the obsolete
    RFC 850 and asctime forms), 0 if it is past; None if ``value`` is not one."""
    if not value.isascii() or len(value) > 40:  # no Unicode digits slipping through int()
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    offset = when.utcoffset()
    if offset is None:  # asctime's form carries no zone: it is GMT, as every HTTP date
        when = when.replace(tzinfo=timezone.utc)
    elif offset.total_seconds() != 0:  # HTTP dates are GMT
        return None
    return max(0.0, when.timestamp() - now)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``Retry-After`` or ``X-RateLimit-Reset``; None if
    neither is usable. Always a finite number of seconds, at least 0 (never capped here:
    :func:`retry_wait` fails past ``max_retry_wait``, saying when to retry; :func:`pause_for`
    bounds the pause of the shared budget).

    Parsed strictly: ``Retry-After`` is delay-seconds (ASCII digits, a decimal fraction
    tolerated) or an HTTP date;
    ``X-RateLimit-Reset`` is a delay in seconds, or a time in epoch seconds (from
    :data:`EPOCH_SECONDS`), or in epoch milliseconds (from :data:`EPOCH_MILLISECONDS`: no
    epoch-seconds value reaches that for three thousand years, and some servers send
    milliseconds, so the unit is unambiguous and converting gives the wait they mean). Anything
    else (``inf``, ``nan``, ``-5``, ``1e3``, Unicode digits, a date with a zone other than GMT)
    is ignored, and the caller backs off as it would without the header.
    """
    now = time.time() if now is None else now
    value = headers.get("Retry-After", "").strip(" \t")
    if value:
        if _SECONDS.fullmatch(value):
            return float(value)
        date = _http_date(value, now)
        if date is not None:
            return date
    reset = headers.get("X-RateLimit-Reset", "").strip(" \t")
    if reset and _SECONDS.fullmatch(reset):
        seconds = float(reset)
        if seconds >= EPOCH_MILLISECONDS:
            return max(0.0, seconds / 1000.0 - now)
        if seconds >= EPOCH_SECONDS:
            return max(0.0, seconds - now)
        return seconds
    return None


def pause_for(seconds: float, settings: Settings) -> float:
    """How long a server's answer may pause everyone sharing the budget: ``seconds``, at most
    ``max_retry_wait`` and :data:`PAUSE_CEILING`; 0 for anything not a positive number."""
    if not seconds > 0:
        return 0.0
    return float(min(seconds, settings.max_wait, PAUSE_CEILING))


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
    category at this worker's ``rate``; a 429 or an exhausted
    ``X-RateLimit-Remaining`` pauses every worker sharing the grant, at any
    rate, for at most :data:`PAUSE_CEILING` (the caller bounds it by
    ``max_retry_wait`` too: :func:`pause_for`). The host's budget keeps each
    rate's reservations apart (see the contract's ``RateBudget``), so a worker
    run with a low ``rate_limit`` spaces its own requests only.
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
        seconds = min(seconds, PAUSE_CEILING) if seconds > 0 else 0.0
        if not seconds:
            return
        try:
            self._budget.pause(self._key(category), seconds)
        except Exception as exc:  # noqa: BLE001
            log.warning("the host's rate budget could not pause (%s)", type(exc).__name__)
