"""A loopback TCP server that answers HTTP requests with raw bytes, for answers
no HTTP library would send: trickled status lines, compression bombs, bodies
that never end.

``RawServer(answer)`` calls ``answer(conn, request)`` on a thread per
connection for each request; ``request`` has the method, path, headers and
body. The handler writes whatever it likes to ``conn`` and returns True to
keep the connection for another request. ``stop`` (an Event) is set when the
server closes, so a handler that trickles bytes can end at once.
"""

import socket
import threading
from dataclasses import dataclass, field


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""


def http_answer(status, body=b"", headers=(), reason="OK"):
    """One whole HTTP/1.1 answer as bytes, with a Content-Length."""
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", *headers, "", ""]
    return "\r\n".join(head).encode() + body


class RawServer:
    def __init__(self, answer):
        self._answer = answer
        self.requests = []
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v5"
        self._threads = []
        self._connections = []

    def __enter__(self):
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for conn in list(self._connections):  # a kept-alive connection waits in readline: end it
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        try:
            while not self.stop.is_set():
                request = self._read(reader)
                if request is None:
                    return
                self.requests.append(request)
                if not self._answer(conn, request):
                    return
        except OSError:
            return
        finally:
            reader.close()
            conn.close()

    @staticmethod
    def _read(reader):
        line = reader.readline()
        if not line:
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers.get("content-length") or 0))
        return RawRequest(method, target, headers, body)
