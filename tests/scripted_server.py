"""A loopback HTTP server that answers from a script and records every request.

Used where a test must assert the exact request the plugin sends, or needs a
response the sandbox would never give (a 403 with code 29, a wrong shape).
"""

import json
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
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(raw)))
                for name, value in reply.headers.items():
                    if name.lower() != "content-type":
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v5"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def script(self, *replies):
        self.replies.extend(replies)
        return self

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
