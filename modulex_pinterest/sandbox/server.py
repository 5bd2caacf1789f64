"""The sandbox's HTTP side: sockets, injected faults and the request log.

``SandboxServer`` is a ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive, one
thread per connection) that ``control.Sandbox`` runs in a daemon thread. Each
request is read whole, then either answered by the first matching injected
fault or handed to ``api.Api``; uploads to ``/media-uploads`` are streamed
instead (``upload.py``), their bytes never held. Every request and what was sent back is
recorded as an ``Exchange`` so tests can check what a client really put on the
wire. Responses are written in one ``write`` with a Content-Length, so the
server never stalls a keep-alive client.

Large JSON answers are gzip-compressed when the request accepts gzip (see
``encoding.py``); the ``Exchange`` keeps the decoded body, with the headers as
sent (``Content-Encoding: gzip`` and the compressed Content-Length). Injected
faults go out as they are: a truncated or reset answer is cut plain JSON, never
a cut gzip stream.

Connections are accepted by a blocking ``accept`` loop (``serve``), not
``serve_forever``'s polling, and ``wake`` ends it at once with a connection of
its own: stopping costs no poll interval.

The server is handed what it answers from (the API, the fault queue, the
request log, the stop signal) and knows nothing of ``Sandbox``. Nothing a
client sends can configure the sandbox: faults and state come only from the
Python API.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import upload
from .api import Api, Request, dumps, json_response
from .encoding import accepts_gzip, encode
from .errors import CODE_RATE_LIMIT, RATE_LIMITED, ApiError
from .faults import MAX_HANG, UPLOAD_KINDS, Fault, FaultQueue
from .media import UPLOAD_PATH, UploadError
from .sources import CAROUSEL_MAX, MAX_IMAGE_BYTES

log = logging.getLogger("modulex_pinterest.sandbox")

MAX_BODY = 1024 * 1024  # a JSON or form body with no media in it: boards, sections, edits, token requests
MAX_DRAIN = 16 * MAX_BODY  # a refused body up to this size is read, so the client can read the 413


def base64_length(size: int) -> int:
    """How many characters standard padded base64 makes of ``size`` bytes."""
    return 4 * ((size + 2) // 3)


# Pinterest documents no request-size limit of its own, only media limits: an image of at most 20 MB,
# sent in ``POST /v5/pins`` as base64 inside the JSON (one image, a cover, or a carousel of up to five),
# and videos of up to 2 GB, which go to the upload URL (``upload.py``, streamed, its own limit). So a new
# pin's body may hold five full-size images as base64 plus the rest of the pin; every other body one MB.
MAX_PIN_BODY = CAROUSEL_MAX * base64_length(MAX_IMAGE_BYTES) + MAX_BODY
BODY_LIMITS = {("POST", "/v5/pins"): MAX_PIN_BODY}


def body_limit(method: str, path: str) -> int:
    """The largest body the sandbox reads for ``method path`` (the upload URL aside)."""
    return BODY_LIMITS.get((method, path.rstrip("/") or "/"), MAX_BODY)


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Pinterest</title></head><body>"
    b"<h1>Oops!</h1><p>Something went wrong on our end. Please try again later.</p>"
    b"</body></html>"
)
# What a truncated or reset answer is cut from: a plausible page of boards.
PARTIAL_SOURCE = dumps(
    {
        "items": [{"id": "549755885175", "name": "Kitchen ideas", "description": "Recipes and kitchen inspiration."}],
        "bookmark": None,
    }
)


@dataclass(frozen=True)
class Exchange:
    """One request as received and what the sandbox answered (status None: no answer).

    ``response_body`` is the body before any content coding; ``response_headers``
    are as sent, so a gzip answer has ``Content-Encoding: gzip`` and the
    Content-Length of the compressed bytes."""

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
        return f"Exchange({self.method} {self.path} -> {self.status}{', fault=' + self.fault if self.fault else ''})"


def _status_fault_answer(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a 'status' fault: Pinterest's error JSON unless told otherwise."""
    status = fault.status
    if status is None:  # Fault refuses to create a 'status' fault without one
        raise AssertionError("a 'status' fault without a status")
    if fault.headers is None:
        headers = {"Retry-After": "1", "X-RateLimit-Reset": "1", "X-RateLimit-Remaining": "0"} if status == 429 else {}
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
    return status, headers, body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class RequestLog:
    """Every exchange, listed by when its request arrived (not when its answer was sent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrivals = itertools.count()
        self._exchanges: dict[int, Exchange] = {}

    def next_arrival(self) -> int:
        with self._lock:
            return next(self._arrivals)

    def record(self, arrival: int, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges[arrival] = exchange

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return [self._exchanges[k] for k in sorted(self._exchanges)]

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()


class SandboxServer(ThreadingHTTPServer):
    """The listening socket, and what every request's handler thread answers from."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for hanging or idle connections
    # The listen backlog: with the default 5, a burst of 16 clients connecting at
    # once gets SYNs dropped and waits out the 1 s SYN retransmission.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], api: Api, faults: FaultQueue, request_log: RequestLog, stopping: threading.Event
    ) -> None:
        self.api = api
        self.faults = faults
        self.request_log = request_log
        self.stopping = stopping  # set when the sandbox stops: delayed and hanging requests give up
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def serve(self) -> None:
        """Hand each connection to a thread of its own until ``stopping`` is set and
        ``wake`` called: a blocking accept, so stopping waits for no poll interval."""
        while not self.stopping.is_set():
            try:
                conn, address = self.socket.accept()
            except OSError:  # reset before it was accepted, or the socket shut by wake()
                continue
            if self.stopping.is_set():
                conn.close()
                return
            try:
                self.process_request(conn, address)  # ThreadingMixIn: starts the handler thread
            except Exception:
                self.handle_error(conn, address)
                self.shutdown_request(conn)

    def wake(self) -> None:
        """End ``serve`` (``stopping`` must be set): connect to it, so its accept returns."""
        host, port = self.server_address[:2]
        host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # the wildcard: connect to loopback
        try:
            socket.create_connection((str(host), port), timeout=1).close()
        except OSError:  # the backlog is full or the address unreachable: shut the socket instead
            try:
                self.socket.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept on Linux
            except OSError:
                pass

    def close_connections(self) -> None:
        """Shut every open connection, so handler threads blocked on a read wake up and end."""
        with self.connections_lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PinterestSandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)
            if self.server.stopping.is_set():  # accepted as stop() ran: close_connections may be past
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("http.server: " + format, *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _record logs each request without its query or headers

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # ----- one request ----------------------------------------------------

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        headers = dict(self.headers.items())
        self._meta = (self.command, path, query, headers)
        self._arrival = self.server.request_log.next_arrival()
        self._body = b""
        if path == UPLOAD_PATH:
            return self._serve_upload()
        if not self._read_body():
            return
        fault = self.server.faults.take(self.command, path)
        if fault is not None and fault.kind != "delay":
            return self._apply_fault(fault)
        if fault is not None:  # delay, then answer normally
            if self.server.stopping.wait(min(fault.delay, MAX_HANG)):
                self.close_connection = True
                return self._record(None, {}, b"", fault.kind)
        req = Request(self.command, path, query, {k.lower(): v for k, v in headers.items()}, self._body)
        try:
            resp = self.server.api.handle(req)
        except Exception:  # a sandbox bug: answer 500 and keep serving
            log.exception("sandbox error on %s %s", self.command, path)
            resp = json_response(500, ApiError(500, 500, "Internal sandbox error.").body())
        gzip_ok = accepts_gzip(self.headers.get_all("Accept-Encoding") or [])
        headers, wire = encode(resp.headers, resp.body, gzip_ok)
        self._send(resp.status, headers, resp.body, fault.kind if fault else None, wire)

    def _serve_upload(self) -> None:
        """The upload endpoint: the body is streamed by ``upload.receive``, never kept."""
        fault = self.server.faults.take(self.command, UPLOAD_PATH, upload=True)
        kind = fault.kind if fault else None
        if fault is not None and kind not in UPLOAD_KINDS and kind != "delay":
            self.close_connection = True  # the body is left unread
            return self._apply_fault(fault)
        if fault is not None and kind == "delay" and self.server.stopping.wait(min(fault.delay, MAX_HANG)):
            self.close_connection = True
            return self._record(None, {}, b"", kind)
        if self.command != "POST":
            refusal = UploadError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
            out = upload.error(refusal, close=True)
        else:
            headers = {k.lower(): v for k, v in self.headers.items()}
            after, delay = (fault.after_bytes, fault.delay) if fault else (None, 0.0)
            out = upload.receive(self.rfile, headers, self.server.api.media, kind, after, delay)
        if out.close or out.status is None:
            self.close_connection = True
        if out.status is None:
            return self._record(None, {}, b"", kind)
        self._send(out.status, out.headers, out.body, kind)
        if out.linger is not None:
            out.linger()

    def _read_body(self) -> bool:
        """Read the request's body into ``_body``; False when it was refused (the error is sent)."""
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._send(411, *self._error(411, "Length Required: send a Content-Length."))
            return False
        try:
            size = int(length) if length is not None else 0
            if size < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._send(400, *self._error(1, "Invalid Content-Length."))
            return False
        limit = body_limit(self.command, self._meta[1])
        if size > limit:
            # Drain a moderately large body so the client can read the 413 (closing
            # with unread data would reset the connection); give up on huge ones.
            refused = size
            if size <= MAX_DRAIN:
                while size > 0:
                    chunk = self.rfile.read(min(size, 65536))
                    if not chunk:
                        break
                    size -= len(chunk)
            else:
                self.close_connection = True
            what = f"{self.command} {self._meta[1]}"
            message = f"Request body too large: {refused} bytes, and {what} takes at most {limit} bytes."
            self._send(413, *self._error(413, message))
            return False
        self._body = self.rfile.read(size)  # at most the route's limit, so memory stays bounded
        return True

    def _error(self, code: int, message: str) -> tuple[dict[str, str], bytes]:
        return {"Content-Type": "application/json"}, dumps({"code": code, "message": message})

    def _head(self, status: int, headers: dict[str, str], length: int) -> bytes:
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if status != 204:  # RFC 9110 8.6: no Content-Length on a 204
            lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, fault: str | None = None, wire: bytes | None = None
    ) -> None:
        """Answer with ``body``, sent as ``wire`` when given (its content-coded bytes):
        the log keeps ``body`` with the headers as sent."""
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        wire = body if wire is None else wire
        head_only = self.command == "HEAD"
        # Record first: a client that has its answer must find it in the log.
        sent = headers if status == 204 else {**headers, "Content-Length": str(len(wire))}
        self._record(status, sent, b"" if head_only else body, fault)
        self._write(self._head(status, headers, len(wire)) + (b"" if head_only else wire))

    def _write(self, data_: bytes) -> None:
        try:
            self.wfile.write(data_)
        except OSError:  # the client went away
            self.close_connection = True

    def _record(self, status: int | None, headers: dict[str, str], body: bytes, fault: str | None) -> None:
        method, path, _, _ = self._meta
        log.debug("%s %s -> %s%s", method, path, status, f" (fault: {fault})" if fault else "")
        self.server.request_log.record(
            self._arrival,
            Exchange(
                *self._meta, body=self._body, status=status, response_headers=headers, response_body=body, fault=fault
            ),
        )

    def _apply_fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "status":
            status, headers, body = _status_fault_answer(fault)
            return self._send(status, headers, body, kind)
        if kind == "truncated_json":
            return self._send(
                200, {"Content-Type": "application/json"}, PARTIAL_SOURCE[: len(PARTIAL_SOURCE) // 2], kind
            )
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
            self.server.stopping.wait(min(fault.delay or MAX_HANG, MAX_HANG))
            return None
        raise AssertionError(kind)
