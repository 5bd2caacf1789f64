"""The one place that talks HTTP to Pinterest.

One ``requests.Session`` per plugin instance (the connection pool is the only
shared mutable state), the bearer token attached per request, timeouts always
set, retries decided in one function, and every failure turned into an
:class:`ApiError` carrying the HTTP status and Pinterest's code and message.
Text for people is written in :mod:`modulex_pinterest.errors`, not here.
"""

import functools
import ipaddress
import json
import random
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import requests
from requests.auth import AuthBase

from .. import __version__
from .redaction import install_log_filter, redact

log = install_log_filter(__name__)

USER_AGENT = f"modulex-pinterest/{__version__} (+python-requests/{requests.__version__})"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_DEADLINE = 120.0
DEFAULT_MAX_WAIT = 60.0
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
LOOPBACK_NAMES = frozenset({"localhost"})


class ApiError(Exception):
    """A call that did not produce a usable response.

    ``kind`` says what happened ("http", "timeout", "connection",
    "bad_response", "too_large", "rate_limited": the shared budget had no
    room in time, nothing sent); ``sent`` says whether the
    request may have reached Pinterest (``None``: unknown).
    """

    def __init__(self, kind, detail, *, status=None, code=None, message=None, retry_after=None, sent=None,
                 oauth_error=None):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.sent = sent
        self.oauth_error = oauth_error  # the OAuth "error" field of a token endpoint's answer, e.g. "invalid_grant"


class BearerAuth(AuthBase):
    """Attaches the token on every request, overriding anything ``~/.netrc`` would set."""

    def __init__(self, token):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self):
        return "BearerAuth([redacted])"


@functools.lru_cache(maxsize=64)  # a pure function of the string, called on every action
def check_base_url(base_url):
    """Refuse a base URL that would send a token in clear text.

    https is required unless the host is loopback (the embedded sandbox).
    Returns the URL without a trailing slash.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an http(s) URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("base_url must use https unless its host is loopback (127.0.0.1, ::1, localhost)")
    return base_url.rstrip("/")


def _is_loopback(host):
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def path_for(template, values):
    """Fill ``{name}`` placeholders with percent-encoded values.

    Values are IDs already checked to be ASCII digits; encoding every
    character keeps a user-controlled value from changing which path is called.
    """
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", quote(str(value), safe=""))
    if "{" in out:
        raise ValueError(f"path template {template!r} has an unfilled placeholder")
    return out


def new_session(pool_size=32):
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    return session


def _retry_after_seconds(response, now=None):
    """Seconds the server asks us to wait, from Retry-After or X-RateLimit-Reset; None if neither is usable."""
    now = time.time() if now is None else now
    value = response.headers.get("Retry-After", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    reset = response.headers.get("X-RateLimit-Reset", "").strip()
    if reset:
        try:
            seconds = float(reset)
        except ValueError:
            return None
        # Either seconds until reset or an epoch timestamp; an epoch is far larger than any wait.
        return max(0.0, seconds - now) if seconds > 1e9 else max(0.0, seconds)
    return None


def _never_sent(exc):
    """True when a ConnectionError certainly happened before the request left (safe to resend a POST)."""
    from urllib3.exceptions import (
        ConnectTimeoutError,
        NameResolutionError,
        NewConnectionError,
    )

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    pending = [exc]
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


class Settings:
    """The host's settings for this plugin, with defaults; unknown keys are ignored."""

    def __init__(self, settings, default_base_url, default_token_url=None, default_rate_limit=100.0):
        settings = settings or {}
        self.base_url = check_base_url(str(settings.get("base_url") or default_base_url))
        connect, read = _timeouts(settings.get("timeout"))
        self.timeout = (connect, read)
        self.max_retries = _non_negative_int(settings.get("max_retries"), DEFAULT_MAX_RETRIES, "max_retries")
        self.deadline = _positive_float(settings.get("deadline"), DEFAULT_DEADLINE, "deadline")
        self.max_wait = _positive_float(settings.get("max_retry_wait"), DEFAULT_MAX_WAIT, "max_retry_wait")
        self.backoff = _positive_float(settings.get("retry_backoff"), BACKOFF_BASE, "retry_backoff")
        self.rate_limit = _positive_float(settings.get("rate_limit"), default_rate_limit, "rate_limit",
                                          "number of requests per second")
        token_url = settings.get("token_url") or (
            f"{self.base_url}/oauth/token" if settings.get("base_url") else default_token_url)
        self.token_url = check_base_url(str(token_url)) if token_url else None


def _positive_float(value, default, name, unit="number of seconds"):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"setting '{name}' must be a positive {unit}")
    return float(value)


def _non_negative_int(value, default, name):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"setting '{name}' must be a non-negative integer")
    return value


def _timeouts(value):
    if value is None:
        return DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return (_positive_float(value[0], None, "timeout"), _positive_float(value[1], None, "timeout"))
    seconds = _positive_float(value, None, "timeout")
    return min(seconds, DEFAULT_CONNECT_TIMEOUT), seconds


class Pacing:
    """The host's shared rate budget, as one grant's client uses it.

    Before each request it reserves a slot for the request's rate-limit
    category; a 429 or an exhausted ``X-RateLimit-Remaining`` pauses every
    worker sharing the grant.
    """

    def __init__(self, budget, grant, rate):
        self._budget = budget
        self._grant = grant
        self._rate = rate

    def __repr__(self):
        return f"Pacing({self._rate:g}/s)"

    def _key(self, category):
        return f"{self._grant}:{category}"

    def reserve(self, category, max_wait):
        return self._budget.reserve(self._key(category), self._rate, max_wait)

    def pause(self, category, seconds):
        self._budget.pause(self._key(category), seconds)


class PinterestClient:
    """Calls for one action run: a shared session, this run's credentials and settings.

    ``auth`` is a requests auth object (:class:`BearerAuth` for the API,
    HTTP Basic for the token endpoint); ``secrets`` are redacted from any
    text this client produces.
    """

    def __init__(self, session, settings, auth, secrets=(), *, pacing=None, deadline=None, sleep=time.sleep,
                 rand=random.random, clock=time.monotonic):
        self._session = session
        self._pacing = pacing
        self._deadline = deadline  # the whole action's, when the caller has one
        self._settings = settings
        self._auth = BearerAuth(auth) if isinstance(auth, str) else auth
        self._secrets = tuple(secrets) + ((auth,) if isinstance(auth, str) else ())
        self._sleep = sleep
        self._rand = rand
        self._clock = clock

    def __repr__(self):
        return f"PinterestClient(base_url={self._settings.base_url!r}, auth=[redacted])"

    def get(self, path, params=None, *, category=None):
        """``category``: Pinterest's rate-limit category of the call (``org_read``), for the shared budget."""
        return self._call("GET", path, params=params, idempotent=True, category=category)

    def post(self, path, body, *, category=None):
        return self._call("POST", path, json=body, idempotent=False, category=category)

    def post_form(self, url, data):
        """A form POST to an absolute URL (the OAuth token endpoint); never resent once it may have arrived."""
        return self._call("POST", url, data=data, idempotent=False)

    def _call(self, method, path, *, params=None, json=None, data=None, idempotent, category=None):
        """Send with retries; return the decoded JSON object or raise ApiError.

        Reads retry on connection errors, timeouts, 429 and 5xx. A create is
        resent only when Pinterest certainly did not act on it: a 429 or a
        connection that was never made.
        """
        settings = self._settings
        url = path if path.startswith(("https://", "http://")) else settings.base_url + path
        deadline = self._deadline if self._deadline is not None else self._clock() + settings.deadline
        attempt = 0
        while True:
            try:
                self._pace(category, deadline)
                return self._once(method, url, deadline, params=params, json=json, data=data, category=category)
            except ApiError as error:
                if error.status == 429 and self._pacing is not None and category is not None:
                    self._pacing.pause(category, error.retry_after if error.retry_after is not None
                                       else min(BACKOFF_CAP, settings.backoff * (2 ** attempt)))
                wait = self._retry_wait(error, attempt, idempotent, deadline)
                if wait is None:
                    raise
                log.debug("retrying %s %s in %.2fs after %s (attempt %d)", method, urlsplit(url).path, wait,
                          error.kind, attempt + 1)
                self._sleep(wait)
                attempt += 1

    def _pace(self, category, deadline):
        """Wait for this request's slot in the shared budget; fail at once when
        the slot comes after the action's deadline (nothing is sent)."""
        if self._pacing is None or category is None:
            return
        limit = max(0.0, min(deadline - self._clock(), self._settings.max_wait))
        wait = self._pacing.reserve(category, limit)
        if wait > limit:
            raise ApiError("rate_limited", f"the rate budget this connection shares has no room for {wait:.1f} s, "
                           "past this action's deadline or max_retry_wait", retry_after=wait, sent=False)
        if wait > 0:
            self._sleep(wait)

    def _retry_wait(self, error, attempt, idempotent, deadline):
        """How long to wait before trying again, or None to give up now."""
        settings = self._settings
        if attempt >= settings.max_retries:
            return None
        retryable = error.kind in ("timeout", "connection") or error.status in RETRYABLE_STATUSES
        if not retryable:
            return None
        if not idempotent and not (error.status == 429 or error.sent is False):
            return None
        if error.retry_after is not None:
            wait = error.retry_after
        else:
            wait = self._rand() * min(BACKOFF_CAP, settings.backoff * (2 ** attempt))
        if wait > settings.max_wait:
            return None
        if self._clock() + wait >= deadline:
            return None
        return wait

    def _once(self, method, url, deadline, category=None, **payload):
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise ApiError("timeout", "the action's deadline passed before the request was sent", sent=False)
        connect, read = self._settings.timeout
        timeout = (min(connect, remaining), min(read, remaining))
        try:
            response = self._session.request(
                method, url, **payload, auth=self._auth, timeout=timeout, stream=True, allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout:
            raise ApiError("timeout", f"connecting timed out after {timeout[0]:g}s", sent=False) from None
        except requests.exceptions.Timeout:
            raise ApiError("timeout", f"no response within {timeout[1]:g}s", sent=None) from None
        except requests.exceptions.ConnectionError as exc:
            never_sent = _never_sent(exc)
            where = urlsplit(url).netloc
            detail = f"could not connect to {where}" if never_sent else f"the connection to {where} failed before a full response arrived"
            raise ApiError("connection", detail, sent=False if never_sent else None) from None
        except requests.exceptions.RequestException as exc:
            raise ApiError("connection", "the request could not be sent (" + type(exc).__name__ + ")", sent=False) from None
        if self._pacing is not None and category is not None and response.status_code != 429:
            self._report_remaining(response, category)
        with response:
            raw = self._read_body(response, deadline)
        return self._decode(response, raw)

    def _report_remaining(self, response, category):
        """``X-RateLimit-Remaining: 0``: the window is spent; everyone sharing the grant waits for its reset."""
        if response.headers.get("X-RateLimit-Remaining", "").strip() != "0":
            return
        reset = _retry_after_seconds(response)
        if reset:
            self._pacing.pause(category, min(reset, self._settings.max_wait))

    def _read_body(self, response, deadline):
        """Read the body in pieces as they arrive, bounded in size and by the deadline.

        ``read1`` returns whatever has arrived, so a server that trickles bytes
        cannot keep a read alive past the action's deadline (a read timeout
        bounds each socket read, not the response).
        """
        from urllib3.exceptions import HTTPError as Urllib3Error

        chunks = []
        size = 0
        try:
            while True:
                chunk = response.raw.read1(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise ApiError("too_large", f"the response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB",
                                   status=response.status_code, sent=True)
                if self._clock() > deadline:
                    raise ApiError("timeout", "the response did not finish arriving within the action's deadline",
                                   status=response.status_code, sent=True)
                chunks.append(chunk)
        except (Urllib3Error, OSError, requests.exceptions.RequestException):
            raise ApiError("connection", "the connection broke while the response was arriving",
                           status=response.status_code, sent=True) from None
        return b"".join(chunks)

    def _decode(self, response, raw):
        status = response.status_code
        data, parsed = None, False
        if raw:
            try:
                data, parsed = json.loads(raw), True
            except ValueError:
                pass
        if 200 <= status < 300:
            if not parsed:
                kind = "empty" if not raw else "not JSON"
                ctype = response.headers.get("Content-Type", "unknown")
                raise ApiError("bad_response", f"the response body is {kind} (Content-Type {ctype})", status=status, sent=True)
            if not isinstance(data, dict):
                raise ApiError("bad_response", f"expected a JSON object, got {type(data).__name__}", status=status, sent=True)
            return data
        code = message = oauth_error = None
        if isinstance(data, dict):
            oauth_error = data.get("error") if isinstance(data.get("error"), str) else None
            code = data.get("code") if isinstance(data.get("code"), int) and not isinstance(data.get("code"), bool) else None
            message = data.get("message") if isinstance(data.get("message"), str) else None
            if message is None and isinstance(data.get("error_description"), str):
                message = data["error_description"]
        if message is not None:
            message = redact(message, self._secrets)[:300]
        retry_after = _retry_after_seconds(response) if status in RETRYABLE_STATUSES else None
        raise ApiError("http", f"HTTP {status}", status=status, code=code, message=message,
                       retry_after=retry_after, sent=True, oauth_error=oauth_error)
