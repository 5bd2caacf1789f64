"""Hostile and faulty servers on loopback: compression, bombs, trickled headers,
endless lists, oversized pages, unusable creates, echoed secrets, non-finite
numbers. Each test asserts the behaviour and, where the point is a bound, the
bound: an action ends within its deadline + 1 s, a bomb is refused in bounded
memory."""

import base64
import gzip
import json
import struct
import subprocess
import sys
import textwrap
import time
import zlib

import pytest

from conftest import PLUGIN, TOKEN
from modulex_pinterest.host import MemoryStore
from raw_server import RawServer, http_answer

JSON = "Content-Type: application/json"
PAGE = {"items": [{"id": "1", "name": "Board one"}], "bookmark": None}
DEADLINE = 0.5


def json_answer(conn, body, *, status=200, encoding=None, compress=None):
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = [JSON]
    if encoding:
        raw = compress(raw)
        headers.append(f"Content-Encoding: {encoding}")
    conn.sendall(http_answer(status, raw, headers))
    return True


def raw_deflate(data):
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
    ],
)
def test_compressed_answers_are_decoded(run, encoding, compress):
    with RawServer(lambda conn, req: json_answer(conn, PAGE, encoding=encoding, compress=compress)) as server:
        out = run("list_boards", {}, server.base_url)
    assert out["success"], out["error"]
    assert out["boards"] == PAGE["items"]
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_an_encoding_that_was_not_offered_is_refused(run):
    with RawServer(lambda conn, req: json_answer(conn, PAGE, encoding="br", compress=lambda b: b)) as server:
        out = run("list_boards", {}, server.base_url)
    assert not out["success"]
    assert "encoded as 'br', which was not offered" in out["error"]


def test_a_truncated_gzip_body_is_an_unusable_response(run):
    def answer(conn, request):
        return json_answer(conn, PAGE, encoding="gzip", compress=lambda b: gzip.compress(b)[:-12])

    with RawServer(answer) as server:
        out = run("list_boards", {}, server.base_url, max_retries=0)
    assert not out["success"]
    assert "unusable response" in out["error"] and "compressed response" in out["error"]


@pytest.fixture(scope="module")
def gzip_bomb():
    """A valid gzip stream of 1 GiB of zeros (about 1 MB). Built from one flushed
    deflate block of 1 MiB repeated (each is byte-aligned and the same once the
    window is full), which takes a tenth of the time of compressing 1 GiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    steady = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (1 << 30) & 0xFFFFFFFF)
    return header + first + steady * 1023 + packer.flush(zlib.Z_FINISH) + trailer


def test_a_decompression_bomb_is_refused_in_bounded_memory(gzip_bomb, tmp_path):
    """Run in a fresh process so its peak RSS is this action's alone."""

    def answer(conn, request):
        conn.sendall(http_answer(200, gzip_bomb, [JSON, "Content-Encoding: gzip"]))
        return True

    script = textwrap.dedent("""
        import json, resource, sys
        from modulex_pinterest.host import Host
        host = Host()
        host.manifest("pinterest")
        import modulex_pinterest.plugin.service  # the plugin's imports, before the baseline
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = host.run("pinterest", "list_boards", {}, {"access_token": sys.argv[2]},
                       {"base_url": sys.argv[1], "max_retries": 0})
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"out": out, "grown_kib": after - before}))
    """)
    with RawServer(answer) as server:
        done = subprocess.run(
            [sys.executable, "-c", script, server.base_url, TOKEN],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert not result["out"]["success"]
    assert "larger than 20 MB" in result["out"]["error"]
    assert result["grown_kib"] < 100 * 1024


def trickle(chunks, every):
    """A handler that sends ``chunks`` one at a time, ``every`` seconds apart, until the server stops."""

    def answer(conn, request):
        for chunk in chunks:
            conn.sendall(chunk)
            if request_server_stopping(conn, every):
                return False
        return False

    return answer


def request_server_stopping(conn, seconds):
    """Wait ``seconds`` unless the client hung up first (the read then sees the end of the stream)."""
    conn.settimeout(seconds)
    try:
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


@pytest.mark.parametrize("what", ["status line", "headers", "body"])
def test_a_trickling_answer_ends_within_the_deadline(run, what):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    start = {"status line": b"", "headers": head[:20], "body": head}[what]
    bytes_one_by_one = [start] + [bytes([b]) for b in (head[20:] if what == "headers" else head + b" " * 5000)]
    with RawServer(trickle(bytes_one_by_one, 0.1)) as server:
        began = time.monotonic()
        out = run("list_boards", {}, server.base_url, deadline=DEADLINE, timeout=0.3)
        took = time.monotonic() - began
    assert not out["success"]
    assert "timed out" in out["error"]
    assert took < DEADLINE + 5  # a margin for a machine ten times slower; unbounded, these run for minutes


def test_fetch_all_stops_after_a_few_empty_pages_with_fresh_bookmarks(run):
    def answer(conn, request):
        return json_answer(conn, {"items": [], "bookmark": f"b{len(server.requests)}"})

    with RawServer(answer) as server:
        out = run("list_boards", {"fetch_all": True}, server.base_url)
    assert out["success"], out["error"]
    assert (out["count"], out["bookmark"]) == (0, None)
    assert len(server.requests) == 3


def test_fetch_all_over_an_endless_list_ends_within_the_deadline(run):
    def answer(conn, request):
        n = len(server.requests)
        return json_answer(conn, {"items": [{"id": str(n), "name": f"b{n}"}], "bookmark": f"b{n}"})

    with RawServer(answer) as server:
        began = time.monotonic()
        out = run("list_boards", {"fetch_all": True, "max_items": 100000}, server.base_url, deadline=DEADLINE)
        took = time.monotonic() - began
    assert not out["success"]
    assert "deadline" in out["error"]
    assert took < DEADLINE + 5  # a margin for a machine ten times slower; unbounded, these run for minutes


def test_slow_pages_end_within_the_deadline(run):
    def answer(conn, request):
        if request_server_stopping(conn, 0.15):
            return False
        n = len(server.requests)
        return json_answer(conn, {"items": [{"id": str(n), "name": f"b{n}"}], "bookmark": f"b{n}"})

    with RawServer(answer) as server:
        began = time.monotonic()
        out = run("list_boards", {"fetch_all": True}, server.base_url, deadline=DEADLINE)
        took = time.monotonic() - began
    assert not out["success"]
    assert took < DEADLINE + 5  # a margin for a machine ten times slower; unbounded, these run for minutes


def test_max_items_is_a_hard_cap_on_a_page_larger_than_asked(run):
    items = [{"id": str(n), "name": f"b{n}"} for n in range(1000)]
    with RawServer(lambda conn, req: json_answer(conn, {"items": items, "bookmark": "next"})) as server:
        out = run("list_boards", {"fetch_all": True, "max_items": 10}, server.base_url)
    assert out["success"], out["error"]
    assert [b["id"] for b in out["boards"]] == [str(n) for n in range(10)]
    assert (out["count"], out["bookmark"]) == (10, "next")


def test_fetch_all_stops_at_its_byte_budget_and_says_where(run):
    """Pages of about 5 MB: the fetch stops once MAX_FETCH_BYTES were read, with the bookmark to resume from."""
    from modulex_pinterest.plugin.actions.lists import MAX_FETCH_BYTES

    filler = "x" * 100_000

    def page(n):
        return json.dumps(
            {"items": [{"id": f"{n}-{i}", "name": filler} for i in range(50)], "bookmark": f"b{n}"}
        ).encode()

    def answer(conn, request):
        conn.sendall(http_answer(200, page(len(server.requests)), [JSON]))
        return True

    with RawServer(answer) as server:
        out = run("list_boards", {"fetch_all": True, "max_items": 100000}, server.base_url)
    assert out["success"], out["error"]
    pages = -(-MAX_FETCH_BYTES // len(page(1)))  # the page that reaches the budget is kept
    assert len(server.requests) == pages
    assert (out["count"], out["bookmark"]) == (pages * 50, f"b{pages}")


CREATE = {"board_id": "1", "title": "A pin", "media_url": "https://e.com/a.jpg"}


@pytest.mark.parametrize(
    ("status", "body", "ctype"),
    [
        (201, b"", JSON),
        (200, b"<html>ok</html>", "Content-Type: text/html"),
        (201, b'{"title": "A pin"}', JSON),
        (201, b"[" * 100_000 + b"]" * 100_000, JSON),
    ],
)
def test_a_create_answered_2xx_with_an_unusable_body_says_the_pin_may_exist(run, status, body, ctype):
    with RawServer(lambda conn, req: conn.sendall(http_answer(status, body, [ctype])) or True) as server:
        out = run("create_pin", CREATE, server.base_url)
    assert not out["success"]
    assert "may or may not have been created" in out["error"], out["error"]
    assert len(server.requests) == 1


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_are_an_unusable_response(run, number):
    body = b'{"items": [{"id": "1", "name": "b", "pin_count": ' + number + b'}], "bookmark": null}'
    with RawServer(lambda conn, req: conn.sendall(http_answer(200, body, [JSON])) or True) as server:
        out = run("list_boards", {}, server.base_url)
    assert not out["success"]
    assert "unusable response" in out["error"] and "not JSON" in out["error"]


APP = {"mode": "oauth2", "app_id": "1234567", "app_secret": "app-secret-5ec7e7-do-not-leak"}
NEW_TOKEN = "fresh-token-without-the-pina-shape-7f1d2c"


def _secret_forms(credentials):
    basic = f"{credentials['app_id']}:{credentials['app_secret']}".encode()
    forms = {credentials["app_secret"], credentials["refresh_token"], credentials["access_token"], NEW_TOKEN}
    for encoded in (base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return forms


def test_secrets_echoed_by_the_token_endpoint_are_redacted_in_every_form(host):
    """The token endpoint answers 400 echoing the Authorization header's bare value and the form."""

    def answer(conn, request):
        basic = request.headers["authorization"].split(" ", 1)[1]
        echo = f"bad client {basic} / {basic.rstrip('=')} for {request.body.decode()}"
        return json_answer(conn, {"code": 400, "message": echo}, status=400)

    credentials = dict(APP, access_token="expired-token-0001", refresh_token="refresh-token-5ec7e7-0001", expires_at=1)
    with RawServer(answer) as server:
        out = host.run(
            PLUGIN, "list_boards", {}, credentials, {"base_url": server.base_url}, store=MemoryStore(credentials)
        )
    assert not out["success"]
    assert "bad client" in out["error"]
    assert not {form for form in _secret_forms(credentials) if form in out["error"]}


def test_a_refreshed_token_echoed_by_the_api_is_redacted(host):
    """After a refresh, the API rejects the new (non-pina) token and echoes it."""

    def answer(conn, request):
        if request.path.endswith("/oauth/token"):
            return json_answer(
                conn, {"access_token": NEW_TOKEN, "refresh_token": "refresh-token-0002", "expires_in": 3600}
            )
        token = request.headers["authorization"].split(" ", 1)[1]
        return json_answer(conn, {"code": 403, "message": f"token {token} may not do that"}, status=403)

    credentials = dict(APP, access_token="expired-token-0001", refresh_token="refresh-token-5ec7e7-0001", expires_at=1)
    with RawServer(answer) as server:
        out = host.run(
            PLUGIN, "list_boards", {}, credentials, {"base_url": server.base_url}, store=MemoryStore(credentials)
        )
    assert not out["success"]
    assert "may not do that" in out["error"]
    assert NEW_TOKEN not in out["error"] and "refresh-token-0002" not in out["error"]


@pytest.mark.parametrize("bad_token", ["has a space", "non-ascii-\u00e9", "control\x07char"])
def test_an_unusable_refreshed_token_is_not_stored_but_the_rotated_refresh_token_is(host, bad_token):
    def answer(conn, request):
        return json_answer(conn, {"access_token": bad_token, "refresh_token": "refresh-token-0002", "expires_in": 3600})

    credentials = dict(APP, access_token="expired-token-0001", refresh_token="refresh-token-0001", expires_at=1)
    store = MemoryStore(credentials)
    with RawServer(answer) as server:
        out = host.run(PLUGIN, "list_boards", {}, None, {"base_url": server.base_url}, store=store)
    assert not out["success"]
    assert "cannot be sent" in out["error"] and "not used or stored" in out["error"]
    stored = store.read()
    assert stored["refresh_token"] == "refresh-token-0002"
    assert "access_token" not in stored and "expires_at" not in stored
    assert [r.path for r in server.requests] == ["/v5/oauth/token"]


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (dict(CREATE, media_url="https://e.com/a.jpg\n"), "media_url"),
        (dict(CREATE, media_url=" https://e.com/a.jpg"), "media_url"),
        (dict(CREATE, link="https://e.com/\tpage"), "link"),
    ],
)
def test_urls_with_whitespace_or_control_characters_are_refused_before_sending(run, inputs, field):
    with RawServer(lambda conn, req: json_answer(conn, {"id": "1"}, status=201)) as server:
        out = run("create_pin", inputs, server.base_url)
    assert not out["success"]
    assert f"'{field}' must be an http(s) URL with a host" in out["error"]
    assert server.requests == []


def test_a_string_that_cannot_be_encoded_is_an_input_error_naming_its_field(run):
    with RawServer(lambda conn, req: json_answer(conn, PAGE)) as server:
        out = run("list_boards", {"bookmark": "abc\ud800"}, server.base_url)
    assert not out["success"]
    assert "'bookmark' holds characters that cannot be sent" in out["error"]
    assert server.requests == []


def test_fetch_all_that_fails_on_a_later_page_keeps_what_it_fetched(run):
    """Two pages, then 503s: success false, the two pages' items, and the bookmark of the page that failed."""

    def answer(conn, request):
        n = len(server.requests)
        if n <= 2:
            return json_answer(
                conn, {"items": [{"id": f"{n}-{i}", "name": "b"} for i in range(3)], "bookmark": f"b{n}"}
            )
        return json_answer(conn, {"code": 503, "message": "busy"}, status=503)

    with RawServer(answer) as server:
        out = run("list_boards", {"fetch_all": True}, server.base_url, max_retries=0)
    assert not out["success"]
    assert out["error"].startswith("Pinterest server error (HTTP 503")
    assert "Returned the 6 items fetched before that page" in out["error"]
    assert [b["id"] for b in out["boards"]] == ["1-0", "1-1", "1-2", "2-0", "2-1", "2-2"]
    assert (out["count"], out["bookmark"]) == (6, "b2")
    assert server.requests[-1].path.endswith("bookmark=b2")


def test_fetch_all_that_runs_out_of_time_keeps_what_it_fetched(run):
    def answer(conn, request):
        n = len(server.requests)
        return json_answer(conn, {"items": [{"id": str(n), "name": f"b{n}"}], "bookmark": f"b{n}"})

    with RawServer(answer) as server:
        out = run("list_boards", {"fetch_all": True, "max_items": 100000}, server.base_url, deadline=DEADLINE)
    assert not out["success"]
    assert out["count"] == len(out["boards"]) > 0
    assert out["bookmark"] == f"b{out['count']}"


def test_a_failing_host_budget_is_named_as_the_hosts_failure_and_nothing_is_sent():
    from modulex_pinterest.host import Host

    class BrokenBudget:
        def reserve(self, key, rate, max_wait):
            raise ConnectionError("budget server went away")

        def pause(self, key, seconds):
            raise ConnectionError("budget server went away")

    with RawServer(lambda conn, req: json_answer(conn, PAGE)) as server:
        out = Host(budget=BrokenBudget()).run(
            PLUGIN, "list_boards", {}, {"access_token": TOKEN}, {"base_url": server.base_url}
        )
    assert not out["success"]
    assert out["error"] == (
        "Not sent: the host's rate budget failed (ConnectionError: budget server went away); "
        "this is the host's failure, not Pinterest's"
    )
    assert server.requests == []


def test_progress_events_reach_the_host_for_pages_and_waits(host):
    """Three pages, the second after a 503 with Retry-After: the host sees each page and the wait."""

    def answer(conn, request):
        n = len(server.requests)
        if n == 2:
            conn.sendall(http_answer(503, b'{"code": 503, "message": "busy"}', [JSON, "Retry-After: 0.01"]))
            return True
        last = n >= 4
        return json_answer(conn, {"items": [{"id": str(n), "name": "b"}], "bookmark": None if last else f"b{n}"})

    events = []
    with RawServer(answer) as server:
        out = host.run(
            PLUGIN,
            "list_boards",
            {"fetch_all": True},
            {"access_token": TOKEN},
            {"base_url": server.base_url},
            progress=events.append,
        )
    assert out["success"], out["error"]
    assert events == [  # a whole-list fetch's page events carry the page's items and the bookmark after it
        {"event": "page", "pages": 1, "items": 1, "page_items": [{"id": "1", "name": "b"}], "bookmark": "b1"},
        {"event": "wait", "seconds": 0.01, "reason": "retry after HTTP 503"},
        {"event": "page", "pages": 2, "items": 2, "page_items": [{"id": "3", "name": "b"}], "bookmark": "b3"},
        {"event": "page", "pages": 3, "items": 3, "page_items": [{"id": "4", "name": "b"}], "bookmark": None},
    ]
