"""The sandbox's HTTP side: sockets, injected faults and the request log.

``Sandbox`` runs a ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive, one thread
per connection) in a daemon thread. Each request is read whole, then either
answered by the first matching injected fault or handed to ``api.Api``. Every
request and what was sent back is recorded as an ``Exchange`` so tests can
check what a client really put on the wire. Responses are written in one
``write`` with a Content-Length, so the server never stalls a keep-alive client.

Nothing a client sends can configure the sandbox: faults and state come only
from the Python API.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import auth, data
from .api import Api, Request, json_response
from .errors import CODE_RATE_LIMIT, RATE_LIMITED, ApiError
from .faults import MAX_HANG, Fault, FaultQueue
from .ratelimit import RateLimiter
from .store import Store, dumps

log = logging.getLogger("modulex_pinterest.sandbox")

MAX_BODY = 1024 * 1024
MAX_DRAIN = 16 * MAX_BODY
DEMO_TOKEN = "pina_sandbox_demo_token"
DEMO_APP_ID = "1500000"
DEMO_APP_SECRET = "sandbox_app_secret"
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Pinterest</title></head><body>"
             b"<h1>Oops!</h1><p>Something went wrong on our end. Please try again later.</p>"
             b"</body></html>")
# What a truncated or reset answer is cut from: a plausible page of boards.
PARTIAL_SOURCE = dumps({"items": [{"id": "549755885175", "name": "Kitchen ideas",
                                   "description": "Recipes and kitchen inspiration."}],
                        "bookmark": None})


@dataclass(frozen=True)
class Exchange:
    """One request as received and what the sandbox answered (status None: no answer)."""
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    fault: str | None = None

    def __repr__(self) -> str:  # headers and bodies may hold tokens and secrets
        return (f"Exchange({self.method} {self.path} -> {self.status}"
                f"{', fault=' + self.fault if self.fault else ''})")


def _status_fault_answer(fault: Fault) -> tuple[dict[str, str], bytes]:
    """Headers and body of a 'status' fault: Pinterest's error JSON unless told otherwise."""
    status = fault.status
    if fault.headers is None:
        headers = {"Retry-After": "1", "X-RateLimit-Reset": "1",
                   "X-RateLimit-Remaining": "0"} if status == 429 else {}
    else:
        headers = dict(fault.headers)
    has_type = any(k.lower() == "content-type" for k in headers)
    if fault.body is None:
        message = RATE_LIMITED if status == 429 else _reason(status) + "."
        body = dumps({"code": CODE_RATE_LIMIT if status == 429 else status, "message": message})
        content_type = "application/json"
    elif isinstance(fault.body, (dict, list)):
        body, content_type = dumps(fault.body), "application/json"
    else:
        body = fault.body.encode() if isinstance(fault.body, str) else bytes(fault.body)
        content_type = "text/html; charset=utf-8"
    if not has_type:
        headers["Content-Type"] = content_type
    return headers, body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for hanging or idle connections

    def __init__(self, address, sandbox: "Sandbox") -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PinterestSandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        log.debug("http.server: " + format, *args)

    def log_request(self, code="-", size="-") -> None:
        pass  # _finish logs each request without its query or headers

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # ----- one request ----------------------------------------------------

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        path, _, query = self.path.partition("?")
        headers = dict(self.headers.items())
        self._meta = (self.command, path, query, headers)
        self._arrival = sandbox._next_arrival()
        self._body = b""
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self._send(411, *self._error(411, "Length Required: send a Content-Length."))
        try:
            size = int(length) if length is not None else 0
            if size < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            return self._send(400, *self._error(1, "Invalid Content-Length."))
        if size > MAX_BODY:
            # Drain a moderately large body so the client can read the 413 (closing
            # with unread data would reset the connection); give up on huge ones.
            if size <= MAX_DRAIN:
                while size > 0:
                    chunk = self.rfile.read(min(size, 65536))
                    if not chunk:
                        break
                    size -= len(chunk)
            else:
                self.close_connection = True
            return self._send(413, *self._error(413, f"Request body too large (max {MAX_BODY} bytes)."))
        self._body = self.rfile.read(size)

        fault = sandbox._faults.take(self.command, path)
        if fault is not None and fault.kind != "delay":
            return self._apply_fault(fault)
        if fault is not None:  # delay, then answer normally
            if sandbox._stopping.wait(min(fault.delay, MAX_HANG)):
                self.close_connection = True
                return self._record(None, {}, b"", fault.kind)
        req = Request(self.command, path, query, {k.lower(): v for k, v in headers.items()},
                      self._body)
        try:
            resp = sandbox._api.handle(req)
        except Exception:  # a sandbox bug: answer 500 and keep serving
            log.exception("sandbox error on %s %s", self.command, path)
            resp = json_response(500, ApiError(500, 500, "Internal sandbox error.").body())
        self._send(resp.status, resp.headers, resp.body, fault.kind if fault else None)

    def _error(self, code: int, message: str) -> tuple[dict[str, str], bytes]:
        return {"Content-Type": "application/json"}, dumps({"code": code, "message": message})

    def _head(self, status: int, headers: dict[str, str], length: int) -> bytes:
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, status: int, headers: dict[str, str], body: bytes,
              fault: str | None = None) -> None:
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        payload = b"" if self.command == "HEAD" else body
        # Record first: a client that has its answer must find it in the log.
        self._record(status, {**headers, "Content-Length": str(len(body))}, payload, fault)
        self._write(self._head(status, headers, len(body)) + payload)

    def _write(self, data_: bytes) -> None:
        try:
            self.wfile.write(data_)
        except OSError:  # the client went away
            self.close_connection = True

    def _record(self, status: int | None, headers: dict[str, str], body: bytes,
                fault: str | None) -> None:
        method, path, _, _ = self._meta
        log.debug("%s %s -> %s%s", method, path, status, f" (fault: {fault})" if fault else "")
        self.server.sandbox._record(self._arrival, Exchange(
            *self._meta, body=self._body, status=status, response_headers=headers,
            response_body=body, fault=fault))

    def _apply_fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "status":
            headers, body = _status_fault_answer(fault)
            return self._send(fault.status, headers, body, kind)
        if kind == "truncated_json":
            return self._send(200, {"Content-Type": "application/json"},
                              PARTIAL_SOURCE[: len(PARTIAL_SOURCE) // 2], kind)
        if kind == "non_json":
            return self._send(200, {"Content-Type": "text/html; charset=utf-8"}, HTML_PAGE, kind)
        self.close_connection = True
        if kind == "drop":
            return self._record(None, {}, b"", kind)
        if kind == "reset":
            headers = {"Content-Type": "application/json"}
            sent = PARTIAL_SOURCE[: len(PARTIAL_SOURCE) // 3]
            self._record(200, {**headers, "Content-Length": str(len(PARTIAL_SOURCE))}, sent, kind)
            return self._write(self._head(200, headers, len(PARTIAL_SOURCE)) + sent)
        if kind == "hang":
            self._record(None, {}, b"", kind)
            self.server.sandbox._stopping.wait(min(fault.delay or MAX_HANG, MAX_HANG))
            return None
        raise AssertionError(kind)


def demo_app() -> dict[str, str]:
    """The OAuth app every sandbox registers, for a command line to print before serving."""
    return {"app_id": DEMO_APP_ID, "app_secret": DEMO_APP_SECRET}


class Sandbox:
    """A Pinterest API v5 stand-in on loopback, with demo data, OAuth and fault injection.

    ``seed`` fixes the demo data; ``access_token_ttl``/``refresh_token_ttl``
    (seconds, 0 or less: expired on issue) apply to tokens issued by the token
    endpoint; ``faults`` is a list of ``inject_fault`` keyword dicts (with
    ``kind``), queued before serving.

    ``rate_limit`` (requests per second, None: unlimited) budgets every
    bearer-authenticated endpoint per app (the token's app; the demo token and
    ``add_access_token`` tokens belong to the demo app unless told otherwise):
    a token bucket holding ``max(1, rate_limit)`` requests, full at start,
    refilled continuously. Auth is checked first, so a 401 spends nothing; the
    token endpoint, the consent page and injected faults are never charged.
    Over budget: 429 ``{"code": 8, ...}`` with ``Retry-After`` and
    ``X-RateLimit-Limit/Remaining/Reset``; within it, answers carry
    ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``.

    Refresh-token reuse (RFC 9700): presenting a refresh token that
    ``continuous_refresh`` already rotated away revokes its whole grant (the
    tokens of one code exchange and of every refresh since). ``grant_revoked(token)``
    tells whether a token's grant was revoked; ``revoked_grants`` counts them.

    ``app_id``/``app_secret``/``access_token`` are class attributes (also
    ``demo_app()``), readable before any sandbox exists.
    """

    access_token = DEMO_TOKEN
    app_id = DEMO_APP_ID
    app_secret = DEMO_APP_SECRET

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0,
                 access_token_ttl: int = 2592000, refresh_token_ttl: int = 5184000,
                 faults: list[dict] | None = None, rate_limit: float | None = None) -> None:
        self.host, self.port, self.seed = host, port, seed
        self.rate_limit = rate_limit
        limiter = None if rate_limit is None else RateLimiter(rate_limit)
        self.store = Store(seed)
        data.load_demo(self.store, seed)
        self.auth = auth.Auth(access_token_ttl, refresh_token_ttl)
        self.auth.register_app(DEMO_APP_ID, DEMO_APP_SECRET)
        self.auth.add_access_token(DEMO_TOKEN, auth.DEFAULT_SCOPES, expires_in=None,
                                   app_id=DEMO_APP_ID)
        self._api = Api(self.store, self.auth, limiter)
        self._faults = FaultQueue()
        for spec in faults or []:
            self._faults.add(Fault(**spec))
        self._log_lock = threading.Lock()
        self._arrivals = itertools.count()
        self._exchanges: dict[int, Exchange] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serving = False

    # ----- lifecycle ------------------------------------------------------

    def _bind(self) -> _Server:
        if self._server is None:
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
        return self._server

    def _loop(self) -> None:
        self._serving = True
        self._bind().serve_forever(poll_interval=0.01)  # stop() waits one interval

    def start(self) -> "Sandbox":
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._bind()
            self._thread = threading.Thread(target=self._loop, name="pinterest-sandbox",
                                            daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() (or KeyboardInterrupt, left to the caller)."""
        self._loop()

    def stop(self) -> None:
        """Stop serving: wake hanging requests and close every open connection."""
        self._stopping.set()
        server = self._server
        if server is None:
            return
        if self._serving:
            server.shutdown()
        with server.connections_lock:
            for conn in list(server.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v5"

    # ----- request log ----------------------------------------------------

    def _next_arrival(self) -> int:
        with self._log_lock:
            return next(self._arrivals)

    def _record(self, arrival: int, exchange: Exchange) -> None:
        with self._log_lock:
            self._exchanges[arrival] = exchange

    @property
    def exchanges(self) -> list[Exchange]:
        """Answered requests so far, in arrival order (a copy)."""
        with self._log_lock:
            return [self._exchanges[k] for k in sorted(self._exchanges)]

    def clear_exchanges(self) -> None:
        with self._log_lock:
            self._exchanges.clear()

    # ----- faults ---------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, *, status: int | None = None,
                     headers: dict[str, str] | None = None, body=None, delay: float = 0.0,
                     method: str | None = None, path_prefix: str | None = None) -> None:
        """Answer the next ``count`` matching requests with a fault instead of normally.

        Kinds: ``status`` (send ``status`` with ``headers``/``body``: default body
        is Pinterest's error JSON, a str/bytes body goes out raw as text/html
        unless ``headers`` set Content-Type, a dict/list as JSON; a 429 without
        ``headers`` gets Retry-After and X-RateLimit-* headers, ``headers={}``
        sends none), ``delay`` (wait ``delay`` s, then answer normally),
        ``drop`` (close without answering), ``reset`` (status and headers, part
        of the body, close), ``truncated_json`` (200 with half a JSON document),
        ``non_json`` (200 with an HTML page), ``hang`` (no answer until stop()
        or ``delay`` s, at most 60, then close). Only ``delay`` changes state.
        """
        self._faults.add(Fault(kind, count, status, headers, body, delay, method, path_prefix))

    def clear_faults(self) -> None:
        self._faults.clear()

    # ----- state helpers --------------------------------------------------

    def add_access_token(self, token: str, scopes=auth.DEFAULT_SCOPES,
                         expires_in: float | None = None, app_id: str = DEMO_APP_ID) -> None:
        """A bearer token outside any grant (never revoked); ``app_id`` picks its rate-limit bucket."""
        self.auth.add_access_token(token, scopes, expires_in, app_id)

    def expire_access_token(self, token: str) -> None:
        self.auth.expire_access_token(token)

    def grant_revoked(self, token: str) -> bool:
        """Whether the grant of ``token`` (access or refresh, current or rotated away)
        was revoked by refresh-token reuse; False for tokens the sandbox never issued."""
        return self.auth.grant_revoked(token)

    @property
    def revoked_grants(self) -> int:
        """How many grants refresh-token reuse has revoked so far."""
        return self.auth.revoked_grants

    def register_app(self, app_id: str, app_secret: str) -> None:
        self.auth.register_app(app_id, app_secret)

    def issue_authorization_code(self, app_id: str, redirect_uri: str, scopes) -> str:
        return self.auth.issue_authorization_code(app_id, redirect_uri, scopes)

    def add_large_board(self, pin_count: int = 10000, name: str = "Large board") -> str:
        """A board whose pins are generated from their index when listed: cheap at any size."""
        return self.store.add_board(name, description=f"Generated board with {pin_count} pins.",
                                    lazy_count=pin_count)

    @property
    def boards(self) -> list[dict]:
        """Every board as GET /boards would serve it, in listing order."""
        return [self.store.board(b) for b in self.store.board_ids()]

    def sections(self, board_id: str) -> list[dict]:
        return [self.store.section(s) for s in self.store.section_ids(board_id)]

    def get_pin(self, pin_id: str) -> dict | None:
        return self.store.get_pin(pin_id)

    def pin_count(self, board_id: str, section_id: str | None = None) -> int:
        return self.store.pin_count(board_id, section_id)
