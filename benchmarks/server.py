"""A minimal loopback HTTP server of precomputed Pinterest responses, for the benchmarks.

Run as its own process (``python benchmarks/server.py``) so that serving never
competes with the measured client for the GIL: on a 2-core machine the client
gets one core and this server the other.

At start-up it runs the package's sandbox (``modulex_pinterest.sandbox.Sandbox``)
in this process, adds a 10,000-pin board, and fetches over HTTP every response
the benchmarks will ask for: a 25-pin page, every 250-pin page of the large
board (following bookmarks), the boards, a board's sections and one created pin.
Then it stops the sandbox and serves those exact bytes from a dictionary with
an asyncio protocol: parse the request line and headers, check the bearer token,
look the request up, write one buffer. Per request that is tens of
microseconds, far below what any HTTP client spends, so the server is never
the bottleneck and the plugin and the floor receive byte-identical answers.
The answers are fetched with ``Accept-Encoding: identity`` and served
uncompressed whatever a client accepts (the sandbox itself gzips large JSON,
as Pinterest's edge does), so the numbers stay comparable with earlier runs.

Requests are matched on method, path and the *sorted* query parameters, so
``?page_size=25&bookmark=x`` and ``?bookmark=x&page_size=25`` are the same.
Anything not precomputed gets a 404 and is counted; ``GET /__stats`` returns
the hit and miss counts, and the benchmark refuses a run with misses.

The large board's first 40 pages of 25 pins are precomputed too (row 10
pages through them).

Video uploads (row 9): ``POST /media`` answers the sandbox's own registration
(its signed ``upload_parameters``) with ``upload_url`` pointing here, at the
sandbox's upload path. A ``POST`` there is a sink: its Content-Length bytes are
counted and dropped as they arrive (no buffering, no parsing), a multipart
body's last bytes checked for its closing delimiter (a plain body, the
benchmark's strictest floor, is only counted), and it answers 204 as S3 does.
The signature is not verified (the sandbox's tests do that): this measures
the clients, and the plugin and the floor upload to this same sink.

A second token (``limited_token`` in the first line) gets the same answers
under a sliding-window rate limit (row 10): at most ``--sliding-limit``
requests (default 20) answered in any second, counted over every arrival
time in the last second as a strict server would; above it, a 429 with
Pinterest's code 8 and ``Retry-After: 1``. ``GET /__stats`` counts both.

The first line on stdout is JSON: base_url, access_token and the fixture ids.
The server exits when its standard input closes (the benchmark ended or died),
or after ``--max-seconds``.
"""

import argparse
import asyncio
import collections
import http.client
import json
import os
import socket
import sys
import threading
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

LARGE_BOARD_PINS = 10_000
SMALL_PAGE = 25
LARGE_PAGE = 250
SMALL_CHAIN = 40  # pages of SMALL_PAGE pins precomputed from the start of the large board (row 10)
CREATE_BODY = {
    "title": "Benchmark pin",
    "description": "Created by the modulex-pinterest benchmark.",
    "link": "https://www.example.com/recipes/benchmark",
    "alt_text": "A benchmark photo",
    "media_source": {"source_type": "image_url", "url": "https://www.example.com/images/benchmark.jpg"},
}


def _key(method, target):
    path, _, query = target.partition("?")
    return method, path, tuple(sorted(parse_qsl(query, keep_blank_values=True)))


def _response(status, reason, body):
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("ascii")
    return head + body


def precompute(large_board_pins=LARGE_BOARD_PINS):
    """Every response the benchmarks need, from the package's sandbox, keyed by request."""
    from modulex_pinterest.sandbox import Sandbox

    responses = {}
    with Sandbox() as sandbox:
        large_board = sandbox.add_large_board(large_board_pins)
        parts = urlsplit(sandbox.base_url)
        prefix = parts.path  # /v5
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        # Identity on purpose: the sandbox gzips large JSON for clients that accept it, but the
        # benchmark serves these bytes, uncompressed as before, to the plugin and the floor alike,
        # so it keeps measuring the clients (not zlib) against the same floor.
        auth = {"Authorization": f"Bearer {sandbox.access_token}", "Accept-Encoding": "identity"}

        def fetch(method, path, params=None, body=None):
            target = prefix + path + ("?" + urlencode(params) if params else "")
            headers = dict(auth)
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, target, body=data, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            if answer.getheader("Content-Encoding"):
                raise RuntimeError(f"sandbox answered {method} {target} content-coded, not identity")
            if answer.status not in (200, 201):
                raise RuntimeError(f"sandbox answered {answer.status} to {method} {target}: {payload[:200]!r}")
            responses[_key(method, target)] = _response(answer.status, answer.reason, payload)
            return json.loads(payload), len(payload)

        boards, _ = fetch("GET", "/boards", {"page_size": SMALL_PAGE})
        with_sections = next(b["id"] for b in boards["items"] if b["name"] == "Kitchen ideas")
        fetch("GET", f"/boards/{with_sections}/sections", {"page_size": SMALL_PAGE})
        page, small_bytes = fetch("GET", f"/boards/{large_board}/pins", {"page_size": SMALL_PAGE})
        assert len(page["items"]) == SMALL_PAGE
        for _ in range(SMALL_CHAIN - 1):  # row 10 pages on through small pages, following bookmarks
            page, _ = fetch(
                "GET", f"/boards/{large_board}/pins", {"page_size": SMALL_PAGE, "bookmark": page["bookmark"]}
            )
        pages, pins, large_bytes, bookmark = 0, 0, 0, None
        while True:
            params = {"page_size": LARGE_PAGE}
            if bookmark:
                params["bookmark"] = bookmark
            page, size = fetch("GET", f"/boards/{large_board}/pins", params)
            if pages == 0:
                large_bytes = size
            pages += 1
            pins += len(page["items"])
            bookmark = page["bookmark"]
            if not bookmark:
                break
        assert pins == large_board_pins, pins
        pin, _ = fetch("POST", "/pins", None, dict(CREATE_BODY, board_id=large_board))
        # Served by serve() once the port is known, with upload_url pointing at this server's sink.
        registered, _ = fetch("POST", "/media", None, {"media_type": "video"})
        del responses[_key("POST", prefix + "/media")]
        conn.close()
        info = {
            "access_token": sandbox.access_token,
            "large_board": large_board,
            "large_board_pins": pins,
            "large_board_pages": pages,
            "board_with_sections": with_sections,
            "small_page_bytes": small_bytes,
            "small_chain_pages": SMALL_CHAIN,
            "large_page_bytes": large_bytes,
            "created_pin_id": pin["id"],
            "create_body": CREATE_BODY,
            "prefix": prefix,
            "media_register": registered,
            "upload_path": urlsplit(registered["upload_url"]).path,
        }
    return responses, info


class Stats:
    hits = 0
    misses = 0
    miss_samples = []
    uploads = 0
    upload_bytes = 0
    limited_ok = 0
    limited_429 = 0


UPLOAD_TAIL = 128  # last bytes of an upload kept, to check its closing delimiter


LIMITED_SUFFIX = ".limited"  # the rate-limited token is the access token with this suffix
_LIMITED_BODY = b'{"code":8,"message":"Too many requests"}'
RATE_LIMITED = (
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"X-RateLimit-Remaining: 0\r\nContent-Length: %d\r\n\r\n%s" % (len(_LIMITED_BODY), _LIMITED_BODY)
)


class SlidingWindow:
    """At most ``limit`` requests answered in any second (``time.monotonic`` at arrival)."""

    def __init__(self, limit):
        self.limit = limit
        self.answered = collections.deque()

    def allow(self):
        now = time.monotonic()
        while self.answered and self.answered[0] <= now - 1.0:
            self.answered.popleft()
        if len(self.answered) >= self.limit:
            return False
        self.answered.append(now)
        return True


def make_protocol(responses, token, upload_path, sliding_limit=20):
    expected_auth = b"Bearer " + token.encode()
    limited_auth = expected_auth + LIMITED_SUFFIX.encode()
    window = SlidingWindow(sliding_limit)
    not_found = _response(404, "Not Found", b'{"code":404,"message":"Not precomputed."}')
    unauthorized = _response(401, "Unauthorized", b'{"code":2,"message":"Authentication failed."}')
    cache = {}  # raw request target -> response, so parsing happens once per distinct target

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.buffer = b""
            self.upload_left = 0  # body bytes of an upload still to drop
            self.upload_size, self.upload_tail, self.upload_end = 0, b"", b""
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def data_received(self, data):
            if self.upload_left:
                take = min(len(data), self.upload_left)
                self.upload_left -= take
                self.upload_tail = (self.upload_tail + data[max(0, take - UPLOAD_TAIL) : take])[-UPLOAD_TAIL:]
                if self.upload_left:
                    return
                self.transport.write(self.upload_answer())
                data = data[take:]
                if not data:
                    return
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                lines = self.buffer[:end].split(b"\r\n")
                length, auth, content_type = 0, None, b""
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"authorization":
                        auth = value.strip()
                    elif name == b"content-type":
                        content_type = value.strip()
                method, target, _ = lines[0].decode("latin-1").split(" ", 2)
                if method == "POST" and target == upload_path and length > 0:
                    # Dropped as it arrives: an upload is never buffered whole.
                    boundary = content_type.partition(b"boundary=")[2].strip(b'"')
                    self.upload_left, self.upload_size, self.upload_tail = length, length, b""
                    self.upload_end = b"\r\n--" + boundary + b"--\r\n" if boundary else b""
                    rest, self.buffer = self.buffer[end + 4 :], b""
                    if rest:
                        self.data_received(rest)
                    return
                total = end + 4 + length
                if len(self.buffer) < total:
                    return
                self.buffer = self.buffer[total:]
                self.transport.write(self.answer(method, target, auth))

        def upload_answer(self):
            if not self.upload_tail.endswith(self.upload_end):
                Stats.misses += 1
                Stats.miss_samples.append(f"an upload of {self.upload_size} bytes without its closing delimiter")
                return _response(400, "Bad Request", b'{"code":400,"message":"Malformed upload."}')
            Stats.hits += 1
            Stats.uploads += 1
            Stats.upload_bytes += self.upload_size
            return b"HTTP/1.1 204 No Content\r\nx-amz-request-id: BENCHMARKSINK\r\n\r\n"

        def answer(self, method, target, auth):
            if target == "/__stats":
                body = json.dumps(
                    {
                        "hits": Stats.hits,
                        "misses": Stats.misses,
                        "miss_samples": Stats.miss_samples[:5],
                        "uploads": Stats.uploads,
                        "upload_bytes": Stats.upload_bytes,
                        "limited_ok": Stats.limited_ok,
                        "limited_429": Stats.limited_429,
                    }
                ).encode()
                return _response(200, "OK", body)
            if auth == limited_auth:
                if not window.allow():
                    Stats.limited_429 += 1
                    return RATE_LIMITED
                Stats.limited_ok += 1
            elif auth != expected_auth:
                Stats.misses += 1
                Stats.miss_samples.append(f"{method} {target} (no or wrong bearer token)")
                return unauthorized
            raw = (method, target)
            found = cache.get(raw)
            if found is None:
                found = responses.get(_key(method, target))
                if found is None:
                    Stats.misses += 1
                    Stats.miss_samples.append(f"{method} {target}")
                    return not_found
                cache[raw] = found
            Stats.hits += 1
            return found

    return Protocol


def _watch_stdin(loop, stop):
    try:
        sys.stdin.buffer.read()
    except (OSError, ValueError):
        pass
    loop.call_soon_threadsafe(stop.set)


async def serve(responses, info, host, port, max_seconds, watch_stdin, sliding_limit=20):
    loop = asyncio.get_running_loop()
    protocol = make_protocol(responses, info["access_token"], info["upload_path"], sliding_limit)
    info = dict(info, limited_token=info["access_token"] + LIMITED_SUFFIX, sliding_limit=sliding_limit)
    server = await loop.create_server(protocol, host, port, reuse_address=True)
    bound = server.sockets[0].getsockname()
    upload_url = f"http://{host}:{bound[1]}{info['upload_path']}"
    registered = dict(info.pop("media_register"), upload_url=upload_url)
    responses[_key("POST", info["prefix"] + "/media")] = _response(201, "Created", json.dumps(registered).encode())
    info = dict(info, base_url=f"http://{host}:{bound[1]}{info['prefix']}", pid=os.getpid(), responses=len(responses))
    print(json.dumps(info), flush=True)
    stop = asyncio.Event()
    if watch_stdin:
        threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    try:
        await asyncio.wait_for(stop.wait(), timeout=max_seconds)
    except asyncio.TimeoutError:
        pass
    server.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--max-seconds", type=float, default=900.0, help="exit after this long whatever happens (default 900)"
    )
    parser.add_argument("--no-stdin-watch", action="store_true", help="do not exit when standard input closes")
    parser.add_argument(
        "--sliding-limit", type=int, default=20, help="requests per sliding second for the limited token (default 20)"
    )
    args = parser.parse_args(argv)
    if not (args.host.startswith("127.") or args.host in ("localhost", "::1")):
        parser.error("the benchmark server only listens on loopback")
    started = time.perf_counter()
    responses, info = precompute()
    info["precompute_seconds"] = round(time.perf_counter() - started, 3)
    asyncio.run(
        serve(responses, info, args.host, args.port, args.max_seconds, not args.no_stdin_watch, args.sliding_limit)
    )


if __name__ == "__main__":
    main()
