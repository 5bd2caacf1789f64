"""A loopback HTTP server that answers from a script and records every request.

Used where a test must assert the exact request the plugin sends, or needs a
response the sandbox would never give (a 403 with code 29, a wrong shape).
"""

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=lambda: {"items": [], "bookmark": None})
    headers: dict = field(default_factory=dict)

    def encoded(self):
        if isinstance(self.body, (bytes, str)):
            raw = self.body.encode() if isinstance(self.body, str) else self.body
            return raw, self.headers.get("Content-Type", "text/html")
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes

    @property
    def params(self):
        return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(self.query, keep_blank_values=True).items()}

    @property
    def json(self):
        return json.loads(self.body)


class ScriptedServer:
    def __init__(self):
        self.replies = []
        self.default = Reply()
        self.respond = None  # optional: a function(Recorded) -> Reply used when no reply is scripted
        self.requests = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # With Nagle on, a segment written after another one still unacknowledged waits
                # for the client's delayed ACK (~40 ms a request); each answer is also one write.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(self.command, parts.path, parts.query, dict(self.headers), body)
                with owner._lock:
                    owner.requests.append(recorded)
                    if owner.replies:
                        reply = owner.replies.pop(0)
                    else:
                        reply = owner.respond(recorded) if owner.respond else owner.default
                raw, ctype = reply.encoded()
                head = [
                    f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('Unknown',))[0]}",
                    f"Content-Type: {ctype}",
                    f"Content-Length: {len(raw)}",
                ]
                head += [f"{name}: {value}" for name, value in reply.headers.items() if name.lower() != "content-type"]
                # Status line, headers and body in one write (wfile is unbuffered: one sendall).
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v5"
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        """Hand each connection to a thread of its own until __exit__. A blocking accept
        rather than serve_forever's polling: stopping takes no poll interval."""
        while True:
            try:
                connection, address = self.httpd.socket.accept()
            except OSError:  # a connection reset before it was accepted, or the socket closed
                if self._closing:
                    return
                continue
            if self._closing:
                connection.close()
                return
            self.httpd.process_request(connection, address)

    def script(self, *replies):
        self.replies.extend(replies)
        return self

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closing = True
        socket.create_connection(self.httpd.server_address).close()  # wakes the accept
        self._thread.join(5)
        self.httpd.server_close()
