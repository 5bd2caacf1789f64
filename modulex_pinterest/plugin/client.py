"""The one place that talks HTTP to Pinterest.

One ``requests.Session`` per plugin instance (the connection pool is the only
shared mutable state), the bearer token attached per request, timeouts always
set, and every failure turned into an :class:`~.errors.ApiError` carrying the
HTTP status and Pinterest's code and message. When to retry is
:mod:`.retry`'s decision; the words for people are :mod:`.messages`'.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import HTTPError as Urllib3Error

from .. import __version__
from ..contract import Progress
from .decoding import ACCEPTED_ENCODINGS, Decoder, parse_json
from .errors import ApiError, ErrorKind
from .messages import MAX_SERVER_MESSAGE
from .redaction import install_log_filter, redact
from .retry import RETRYABLE_STATUSES, Pacing, backoff, never_sent, retry_after_seconds, retry_wait
from .settings import Settings
from .watchdog import WatchedHTTPAdapter, deadline_for_this_thread

log = install_log_filter(__name__)

USER_AGENT = f"modulex-pinterest/{__version__} (+python-requests/{requests.__version__})"
MAX_RESPONSE_BYTES = 20 * 1024 * 1024  # of one decoded body: a bigger one is refused, in bounded memory
READ_CHUNK = 64 * 1024
POOL_SIZE = 32
JsonObject = dict[str, Any]


class BearerAuth(AuthBase):
    """Attaches the token on every request, overriding anything ``~/.netrc`` would set."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth([redacted])"


def path_for(template: str, values: Mapping[str, Any]) -> str:
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


def new_session(pool_size: int = POOL_SIZE) -> requests.Session:
    session = requests.Session()
    adapter = WatchedHTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    session.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
    return session


class PinterestClient:
    """Calls for one action run: a shared session, this run's credentials and settings.

    ``auth`` is a token (sent as a bearer token) or a requests auth object
    (HTTP Basic for the token endpoint); ``secrets`` are redacted from any
    text this client produces. ``deadline`` (a ``time.monotonic()`` value) is
    the whole action's; without one, each call gets ``settings.deadline``.
    """

    def __init__(
        self,
        session: requests.Session,
        settings: Settings,
        auth: str | AuthBase,
        secrets: Iterable[str] = (),
        *,
        pacing: Pacing | None = None,
        deadline: float | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._pacing = pacing
        self._deadline = deadline
        self._settings = settings
        self._auth = BearerAuth(auth) if isinstance(auth, str) else auth
        self._secrets = tuple(secrets) + ((auth,) if isinstance(auth, str) else ())
        self._sleep = sleep
        self._rand = rand
        self._clock = clock
        self.bytes_read = 0  # decoded body bytes so far, for budgets across pages
        self._progress = progress

    def __repr__(self) -> str:
        return f"PinterestClient(base_url={self._settings.base_url!r}, auth=[redacted])"

    @property
    def session(self) -> requests.Session:
        """The shared session, for a media upload to Pinterest's storage (sent without the token)."""
        return self._session

    @property
    def settings(self) -> Settings:
        return self._settings

    def deadline(self) -> float:
        """The action's deadline (``time.monotonic()``), fixed at the first ask when none was given."""
        if self._deadline is None:
            self._deadline = self._clock() + self._settings.deadline
        return self._deadline

    def now(self) -> float:
        return self._clock()

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def report(self, event: str, **details: Any) -> None:
        """Tell the host's ``progress`` (if someone is watching) how the call is going; never fails the call."""
        if self._progress is None:
            return
        try:
            self._progress(dict(details, event=event))
        except Exception as exc:  # noqa: BLE001 - the host's callback is the host's business
            log.warning("the host's progress callback failed (%s)", type(exc).__name__)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, category: str | None = None) -> JsonObject:
        """``category``: Pinterest's rate-limit category of the call (``org_read``), for the shared budget."""
        return self._call("GET", path, {"params": params}, idempotent=True, category=category)

    def post(self, path: str, body: JsonObject, *, category: str | None = None) -> JsonObject:
        return self._call("POST", path, {"json": body}, idempotent=False, category=category)

    def patch(self, path: str, body: JsonObject, *, category: str | None = None) -> JsonObject:
        """Sets the fields in ``body`` to values: sending it twice changes nothing more, so it may be resent."""
        return self._call("PATCH", path, {"json": body}, idempotent=True, category=category)

    def delete(self, path: str, *, category: str | None = None) -> JsonObject:
        """Never resent once it may have arrived: a second DELETE of what the first removed answers 404."""
        return self._call("DELETE", path, {}, idempotent=False, category=category)

    def post_form(self, url: str, data: Mapping[str, str]) -> JsonObject:
        """A form POST to an absolute URL (the OAuth token endpoint); never resent once it may have arrived."""
        return self._call("POST", url, {"data": data}, idempotent=False, category=None)

    def _call(
        self, method: str, path: str, payload: dict[str, Any], *, idempotent: bool, category: str | None
    ) -> JsonObject:
        """Send, retrying as :func:`.retry.retry_wait` allows; the decoded JSON object or an ApiError."""
        url = path if path.startswith(("https://", "http://")) else self._settings.base_url + path
        deadline = self._deadline if self._deadline is not None else self._clock() + self._settings.deadline
        attempt = 0
        while True:
            try:
                self._pace(category, deadline)
                return self._once(method, url, deadline, payload, category)
            except ApiError as error:
                if error.status == 429 and self._pacing is not None and category is not None:
                    self._pacing.pause(
                        category,
                        error.retry_after if error.retry_after is not None else backoff(self._settings, attempt),
                    )
                wait = retry_wait(
                    error, attempt, idempotent, self._settings, seconds_left=deadline - self._clock(), rand=self._rand
                )
                if wait is None:
                    raise
                log.debug(
                    "retrying %s %s in %.2fs after %s (attempt %d)",
                    method,
                    urlsplit(url).path,
                    wait,
                    error.kind.value,
                    attempt + 1,
                )
                self.report("wait", seconds=round(wait, 3), reason=f"retry after {error.detail}")
                self._sleep(wait)
                attempt += 1

    def _pace(self, category: str | None, deadline: float) -> None:
        """Wait for this request's slot in the shared budget; fail at once when
        the slot comes after the action's deadline (nothing is sent)."""
        if self._pacing is None or category is None:
            return
        limit = max(0.0, min(deadline - self._clock(), self._settings.max_wait))
        wait = self._pacing.reserve(category, limit)
        if wait > limit:
            raise ApiError(
                ErrorKind.RATE_LIMITED,
                f"the rate budget this connection shares has no room for "
                f"{wait:.1f} s, past this action's deadline or max_retry_wait",
                retry_after=wait,
                sent=False,
            )
        if wait > 0:
            self.report("wait", seconds=round(wait, 3), reason="the shared rate budget")
            self._sleep(wait)

    def _once(
        self, method: str, url: str, deadline: float, payload: dict[str, Any], category: str | None
    ) -> JsonObject:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise ApiError(ErrorKind.TIMEOUT, "the action's deadline passed before the request was sent", sent=False)
        connect, read = self._settings.timeout
        timeout = (min(connect, remaining), min(read, remaining))
        with deadline_for_this_thread(deadline) as watches:
            try:
                response = self._send(method, url, payload, timeout)
                if self._pacing is not None and category is not None and response.status_code != 429:
                    self._report_remaining(response, category)
                with response:
                    raw = self._read_body(response, deadline)
                if any(watch.fired for watch in watches):  # closed at the deadline: what arrived is cut short
                    raise ApiError(ErrorKind.CONNECTION, "closed", status=response.status_code, sent=True)
            except ApiError as error:
                if any(watch.fired for watch in watches):  # the watchdog closed it: the deadline, not the network
                    raise ApiError(
                        ErrorKind.TIMEOUT,
                        "the answer did not finish arriving within the action's deadline",
                        status=error.status,
                        sent=error.sent,
                    ) from None
                raise
        return self._decode(response, raw)

    def _send(self, method: str, url: str, payload: dict[str, Any], timeout: tuple[float, float]) -> requests.Response:
        """The request, with every requests failure turned into an ApiError saying whether it may have arrived."""
        try:
            return self._session.request(
                method, url, **payload, auth=self._auth, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.exceptions.ConnectTimeout:
            raise ApiError(ErrorKind.TIMEOUT, f"connecting timed out after {timeout[0]:g}s", sent=False) from None
        except requests.exceptions.Timeout:
            raise ApiError(ErrorKind.TIMEOUT, f"no response within {timeout[1]:g}s", sent=None) from None
        except requests.exceptions.ConnectionError as exc:
            where = urlsplit(url).netloc
            if never_sent(exc):
                raise ApiError(ErrorKind.CONNECTION, f"could not connect to {where}", sent=False) from None
            raise ApiError(
                ErrorKind.CONNECTION, f"the connection to {where} failed before a full response arrived", sent=None
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ApiError(
                ErrorKind.CONNECTION, f"the request could not be sent ({type(exc).__name__})", sent=False
            ) from None

    def _report_remaining(self, response: requests.Response, category: str) -> None:
        """``X-RateLimit-Remaining: 0``: the window is spent; everyone sharing the grant waits for its reset."""
        if response.headers.get("X-RateLimit-Remaining", "").strip() != "0" or self._pacing is None:
            return
        reset = retry_after_seconds(response.headers)
        if reset:
            self._pacing.pause(category, min(reset, self._settings.max_wait))

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """Read and decode the body in pieces as they arrive, bounded in decoded size and by the deadline.

        ``read1`` returns whatever has arrived, so a server that trickles bytes
        cannot keep a read alive past the action's deadline (a read timeout
        bounds each socket read, not the response; the watchdog covers a read
        that blocks across the deadline).
        """
        status = response.status_code
        try:
            decoder = Decoder(response.headers.get("Content-Encoding", ""), MAX_RESPONSE_BYTES)
        except ValueError as exc:
            raise ApiError(ErrorKind.BAD_RESPONSE, str(exc), status=status, sent=True) from None
        chunks = []
        try:
            while chunk := response.raw.read1(READ_CHUNK):
                chunks.append(decoder.feed(chunk))
                if self._clock() > deadline:
                    raise ApiError(
                        ErrorKind.TIMEOUT,
                        "the response did not finish arriving within the action's deadline",
                        status=status,
                        sent=True,
                    )
            decoder.finish()
        except OverflowError:
            raise ApiError(
                ErrorKind.TOO_LARGE,
                f"the response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB",
                status=status,
                sent=True,
            ) from None
        except ValueError as exc:
            raise ApiError(ErrorKind.BAD_RESPONSE, str(exc), status=status, sent=True) from None
        except (Urllib3Error, OSError, requests.exceptions.RequestException):
            raise ApiError(
                ErrorKind.CONNECTION, "the connection broke while the response was arriving", status=status, sent=True
            ) from None
        self.bytes_read += decoder.size
        return b"".join(chunks)

    def _decode(self, response: requests.Response, raw: bytes) -> JsonObject:
        status = response.status_code
        data: Any = None
        parsed = False
        if raw:
            try:
                data, parsed = parse_json(raw), True
            except (ValueError, RecursionError):
                pass
        if status == 204 and not raw:  # No Content: a DELETE's answer
            return {}
        if 200 <= status < 300:
            if not parsed:
                kind = "empty" if not raw else "not JSON"
                ctype = response.headers.get("Content-Type", "unknown")
                raise ApiError(
                    ErrorKind.BAD_RESPONSE,
                    f"the response body is {kind} (Content-Type {ctype})",
                    status=status,
                    sent=True,
                )
            if not isinstance(data, dict):
                raise ApiError(
                    ErrorKind.BAD_RESPONSE,
                    f"expected a JSON object, got {type(data).__name__}",
                    status=status,
                    sent=True,
                )
            return data
        raise self._error_answer(response, data if isinstance(data, dict) else {})

    def _error_answer(self, response: requests.Response, data: JsonObject) -> ApiError:
        """An ApiError for a non-2xx answer, with Pinterest's (or the OAuth endpoint's) code and message."""
        oauth_error = data.get("error") if isinstance(data.get("error"), str) else None
        code = data.get("code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        message = data.get("message") if isinstance(data.get("message"), str) else None
        if message is None and isinstance(data.get("error_description"), str):
            message = data["error_description"]
        if message is not None:
            message = redact(message, self._secrets)[:MAX_SERVER_MESSAGE]
        status = response.status_code
        retry_after = retry_after_seconds(response.headers) if status in RETRYABLE_STATUSES else None
        return ApiError(
            ErrorKind.HTTP,
            f"HTTP {status}",
            status=status,
            code=code,
            message=message,
            retry_after=retry_after,
            sent=True,
            oauth_error=oauth_error,
        )
