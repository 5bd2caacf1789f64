"""The one place that talks HTTP to Pinterest.

One ``requests.Session`` per plugin instance (the connection pool is the only
shared mutable state), the bearer token attached per request, timeouts always
set, and every failure turned into an :class:`~.errors.ApiError` carrying the
HTTP status and Pinterest's code and message. When to retry is
:mod:`.retry`'s decision; the words for people are :mod:`.messages`'.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import HTTPError as Urllib3Error

from ... import __version__
from ...contract import HTTP_LOGGER
from ..errors import (
    RETRYABLE_STATUSES,
    ApiError,
    BadResponse,
    ConnectionFailed,
    RateLimited,
    StatusError,
    TimedOut,
    TooLarge,
)
from ..messages import MAX_SERVER_MESSAGE, is_scope_error, setting
from ..redaction import install_log_filter, redact
from ..run import Run
from ..spec import manifest
from ..spec.model import Request
from .decoding import ACCEPTED_ENCODINGS, Decoder, parse_json
from .retry import LATE_RESERVES, LATE_SLOT, Pacing, backoff, never_sent, pause_for, retry_after_seconds, retry_wait
from .watchdog import WatchedHTTPAdapter, deadline_for_this_thread

log = install_log_filter(__name__)
http_log = install_log_filter(HTTP_LOGGER)
"""One DEBUG line per HTTP exchange (method, path and query, status, time, request id), redacted:
a host shows it by giving this logger a handler at DEBUG (the CLI's ``--verbose``). Headers and
bodies are never logged, and http.client's own debug output is never turned on."""
REQUEST_ID_HEADERS = ("x-request-id", "x-pinterest-rid", "x-amz-request-id")

USER_AGENT = f"modulex-pinterest/{__version__} (+python-requests/{requests.__version__})"
MAX_RESPONSE_BYTES = 20 * 1024 * 1024  # of one decoded body: a bigger one is refused, in bounded memory
READ_CHUNK = 64 * 1024
UPLOAD_ANSWER_BYTES = 64 * 1024  # storage answers are small; the rest is unused
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
    """HTTP to Pinterest for one run: a shared session, this run's credentials and settings.

    ``auth`` is a token (sent as a bearer token) or a requests auth object
    (HTTP Basic for the token endpoint); ``secrets`` are redacted from any
    text this client produces. Every request is timed by ``run`` (the whole
    call's deadline). ``reauthorize``, given the token Pinterest rejected with
    a 401 (not one for a missing scope), returns a fresh one: the rejected
    request is then sent once more with it, and nothing above it runs again.
    """

    def __init__(
        self,
        session: requests.Session,
        run: Run,
        auth: str | AuthBase,
        secrets: Iterable[str] = (),
        *,
        pacing: Pacing | None = None,
        reauthorize: Callable[[str], str] | None = None,
    ) -> None:
        self._session = session
        self._run = run
        self._settings = run.settings
        self._pacing = pacing
        self._token = auth if isinstance(auth, str) else None
        self._auth = BearerAuth(auth) if isinstance(auth, str) else auth
        self._secrets = tuple(secrets) + ((auth,) if isinstance(auth, str) else ())
        self._reauthorize = reauthorize

    def __repr__(self) -> str:
        return f"PinterestClient(base_url={self._settings.base_url!r}, auth=[redacted])"

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, category: str | None = None) -> JsonObject:
        """``category``: Pinterest's rate-limit category of the call (``org_read``), for the shared budget."""
        return self._call("GET", path, {"params": params}, category)

    def post(self, path: str, body: JsonObject, *, category: str | None = None) -> JsonObject:
        return self._call("POST", path, {"json": body}, category)

    def send(
        self, request: Request, path: str, params: Mapping[str, Any] | None, body: JsonObject | None
    ) -> JsonObject:
        """``request`` (a manifest entry) to ``path``, with query ``params`` and a JSON ``body``."""
        payload: dict[str, Any] = {"params": params}
        if body is not None:
            payload["json"] = body
        return self._call(request.method, path, payload, request.rate_limit_category)

    def post_form(self, url: str, data: Mapping[str, str]) -> JsonObject:
        """A form POST to an absolute URL (the OAuth token endpoint); never resent once it may have arrived."""
        return self._call("POST", url, {"data": data}, None)

    def _call(self, method: str, path: str, payload: dict[str, Any], category: str | None) -> JsonObject:
        """Send, retrying as :func:`.retry.retry_wait` and the method's semantics allow
        (a 401 once more with a fresh token); the decoded JSON object or an ApiError."""
        url = path if path.startswith(("https://", "http://")) else self._settings.base_url + path
        under_base_url = url.startswith(self._settings.base_url + "/")  # the token endpoint too, unless set apart
        resend = manifest.spec().semantics[method].resend
        attempt = 0
        reauthorized = False
        while True:
            try:
                self._pace(category)
                return self._once(method, url, payload, category)
            except ApiError as error:
                if under_base_url:  # a message may name the server by the base_url setting
                    error.base_url = self._settings.base_url
                # A 401 that a new access token may cure (not one for a missing scope): once.
                if error.status == 401 and self._reauthorize and not reauthorized and not is_scope_error(error):
                    reauthorized = True
                    self._use_token(self._reauthorize(self._token or ""))
                    continue
                if error.status == 429 and self._pacing is not None and category is not None:
                    # Everyone sharing the grant holds back: for what the server asked, bounded by
                    # max_retry_wait and the ceiling (a Retry-After of days must not stop every worker).
                    asked = error.retry_after if error.retry_after is not None else backoff(self._settings, attempt)
                    self._pacing.pause(category, pause_for(asked, self._settings))
                wait = retry_wait(
                    error, attempt, resend, self._settings, seconds_left=self._run.seconds_left(), rand=self._run.rand
                )
                if wait is None:
                    raise
                log.debug("retrying %s %s in %.2fs after %s (attempt %d)", method, urlsplit(url).path, wait,
                          error.kind.value, attempt + 1)  # fmt: skip
                self._run.report({"event": "wait", "seconds": round(wait, 3), "reason": f"retry after {error.detail}"})
                self._run.sleep(wait)
                attempt += 1

    def _use_token(self, token: str) -> None:
        self._token = token
        self._auth = BearerAuth(token)
        self._secrets += (token,)

    def _pace(self, category: str | None) -> None:
        """Wait for this request's slot in the shared budget; fail at once when
        the slot comes after the action's deadline (nothing is sent).

        A slot woken up to more than :data:`.retry.LATE_SLOT` late (a busy
        machine did not run this thread in time) is left unused and another is
        reserved: sent that late, the request could land in the same second as
        the slots after it, over a server's limit. The budget's headroom covers
        lateness up to that much (``host/budget.py``)."""
        if self._pacing is None or category is None:
            return
        for _ in range(LATE_RESERVES):
            limit = max(0.0, min(self._run.seconds_left(), self._settings.max_wait))
            wait = self._pacing.reserve(category, limit)
            if wait > limit:
                raise RateLimited(
                    f"the rate budget this connection shares has no room for "
                    f"{wait:.1f} s, past this action's deadline or {setting('max_retry_wait')}",
                    retry_after=wait,
                    sent=False,
                )
            if wait <= 0:
                return
            slot = self._run.now() + wait
            self._run.report({"event": "wait", "seconds": round(wait, 3), "reason": "the shared rate budget"})
            self._run.sleep(wait)
            if self._run.now() - slot <= LATE_SLOT:
                return

    def _once(self, method: str, url: str, payload: dict[str, Any], category: str | None) -> JsonObject:
        deadline = self._run.deadline
        remaining = self._run.seconds_left()
        if remaining <= 0:
            raise TimedOut("the action's deadline passed before the request was sent", sent=False)
        connect, read = self._settings.timeout
        timeout = (min(connect, remaining), min(read, remaining))
        with deadline_for_this_thread(deadline) as watches:
            try:
                try:
                    response = self._send(method, url, payload, timeout)
                except TimedOut as error:
                    if timeout[1] < read:  # the read timeout was the deadline's: say so
                        raise TimedOut("no answer before the action's deadline", sent=error.sent) from None
                    raise
                with response:  # closed on every path, a failing rate budget's too
                    if self._pacing is not None and category is not None and response.status_code != 429:
                        self._report_remaining(response, category)
                    raw = self._read_body(response, deadline)
                if any(watch.fired for watch in watches):  # closed at the deadline: what arrived is cut short
                    raise ConnectionFailed("closed", status=response.status_code, sent=True)
            except ApiError as error:
                if any(watch.fired for watch in watches):  # the watchdog closed it: the deadline, not the network
                    raise TimedOut(
                        "the answer did not finish arriving within the action's deadline",
                        status=error.status,
                        sent=error.sent,
                    ) from None
                raise
        return self._decode(response, raw)

    def _send(self, method: str, url: str, payload: dict[str, Any], timeout: tuple[float, float]) -> requests.Response:
        """The request (:meth:`_request`), logged to ``http_log`` when someone listens."""
        if not http_log.isEnabledFor(logging.DEBUG):
            return self._request(method, url, payload, timeout)
        started = time.monotonic()
        try:
            response = self._request(method, url, payload, timeout)
        except ApiError as error:
            self._log_exchange(method, url, payload, None, started, error.detail)
            raise
        self._log_exchange(method, url, payload, response, started)
        return response

    def _log_exchange(
        self,
        method: str,
        url: str,
        payload: Mapping[str, Any],
        response: requests.Response | None,
        started: float,
        failure: str | None = None,
    ) -> None:
        """One line for ``http_log``: ``GET /v5/boards?page_size=25 -> 200 in 41 ms (request id ...)``."""
        sent = response.request.url if response is not None and response.request.url else url
        if response is None and payload.get("params"):
            sent = f"{url}?{urlencode(payload['params'], doseq=True)}"
        parts = urlsplit(str(sent))
        base = urlsplit(self._settings.base_url)
        shown = parts.path + (f"?{parts.query}" if parts.query else "")
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            shown = f"{parts.scheme}://{parts.netloc}{shown}"
        elapsed = (time.monotonic() - started) * 1000
        if response is None:
            line = f"{method} {shown} -> failed after {elapsed:.0f} ms: {failure}"
        else:
            rid = next((response.headers[name] for name in REQUEST_ID_HEADERS if response.headers.get(name)), None)
            line = f"{method} {shown} -> {response.status_code} in {elapsed:.0f} ms" + (
                f" (request id {rid})" if rid else ""
            )
        http_log.debug("%s", redact(line, self._secrets))

    def _request(
        self, method: str, url: str, payload: dict[str, Any], timeout: tuple[float, float]
    ) -> requests.Response:
        """The request, with every requests failure turned into an ApiError saying whether it may have arrived."""
        payload = {"auth": self._auth, **payload}
        try:
            return self._session.request(method, url, **payload, timeout=timeout, stream=True, allow_redirects=False)
        except requests.exceptions.ConnectTimeout:
            raise TimedOut(f"connecting timed out after {timeout[0]:g}s", sent=False) from None
        except requests.exceptions.Timeout:
            raise TimedOut(f"no response within {timeout[1]:g}s", sent=None) from None
        except requests.exceptions.ConnectionError as exc:
            where = urlsplit(url).netloc
            if never_sent(exc):
                raise ConnectionFailed(f"could not connect to {where}", sent=False) from None
            raise ConnectionFailed(
                f"the connection to {where} failed before a full response arrived", sent=None
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailed(f"the request could not be sent ({type(exc).__name__})", sent=False) from None

    def upload(self, url: str, payload: dict[str, Any]) -> int:
        """POST ``payload`` (a streamed body, its headers and auth) to ``url`` through the same send
        path and failure mapping as every request, within the run's deadline; the answer's status.
        Never resent: the body is a stream read once. The answer's body is not read beyond 64 KiB."""
        remaining = self._run.seconds_left()
        if remaining <= 0:
            raise TimedOut("the action's deadline passed before the upload started", sent=False)
        connect, read = self._settings.timeout
        with deadline_for_this_thread(self._run.deadline):
            response = self._send("POST", url, payload, (min(connect, remaining), min(read, remaining)))
            try:
                with response:
                    response.raw.read(UPLOAD_ANSWER_BYTES, decode_content=False)
            except (Urllib3Error, OSError, requests.exceptions.RequestException):
                raise ConnectionFailed("the connection broke while the answer was arriving", sent=True) from None
        return response.status_code

    def _report_remaining(self, response: requests.Response, category: str) -> None:
        """``X-RateLimit-Remaining: 0``: the window is spent; everyone sharing the grant waits for its
        reset (``X-RateLimit-Reset`` or ``Retry-After``, bounded as a 429's pause is). Without a reset
        there is nothing to wait for: the budget's own spacing goes on."""
        if response.headers.get("X-RateLimit-Remaining", "").strip() != "0" or self._pacing is None:
            return
        reset = retry_after_seconds(response.headers)
        if reset:
            self._pacing.pause(category, pause_for(reset, self._settings))

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
            raise BadResponse(str(exc), status=status, sent=True) from None
        chunks = []
        try:
            while chunk := response.raw.read1(READ_CHUNK):
                chunks.append(decoder.feed(chunk))
                if self._run.now() > deadline:
                    raise TimedOut(
                        "the response did not finish arriving within the action's deadline",
                        status=status,
                        sent=True,
                    )
            decoder.finish()
        except OverflowError:
            raise TooLarge(
                f"the response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB",
                status=status,
                sent=True,
            ) from None
        except ValueError as exc:
            raise BadResponse(str(exc), status=status, sent=True) from None
        except (Urllib3Error, OSError, requests.exceptions.RequestException):
            raise ConnectionFailed(
                "the connection broke while the response was arriving", status=status, sent=True
            ) from None
        self._run.bytes_read += decoder.size
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
                raise BadResponse(
                    f"the response body is {kind} (Content-Type {ctype})",
                    status=status,
                    sent=True,
                )
            if not isinstance(data, dict):
                raise BadResponse(
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
        detail = f"HTTP {status}"
        if status == 413:  # the message says how big the refused body was
            sent_length = response.request.headers.get("Content-Length") if response.request is not None else None
            if sent_length is not None and sent_length.isdigit():
                detail = f"{detail}: the request body was {int(sent_length)} bytes"
        return StatusError(
            detail,
            status=status,
            code=code,
            message=message,
            retry_after=retry_after,
            sent=True,
            oauth_error=oauth_error,
        )
