"""Faults over real sockets: retries, rate limits, timeouts, broken bodies,
and the rule that a create is never resent once Pinterest may have acted.

Host-level tests use the sandbox's fault injection with short waits
(``retry_backoff``, ``Retry-After: 0``); client-level tests inject ``sleep``
to see the waits the plugin would take, still over real HTTP.
"""

import socket
import threading
import time
from email.utils import formatdate

import pytest

from modulex_pinterest.plugin.errors import ApiError
from modulex_pinterest.plugin.run import Run
from modulex_pinterest.plugin.settings import Settings
from modulex_pinterest.plugin.transport.client import PinterestClient, new_session

FAST = {"retry_backoff": 0.01}
PIN = {"title": "t", "media_url": "https://e.com/a.jpg"}


def _settings(base_url, **more):
    """The client's settings for a test server, as the plugin builds them from the host's."""
    return Settings(dict(more, base_url=base_url))


def _client(settings, token, **timing):
    """A client for one run, with the run's ``sleep`` and ``rand`` replaced."""
    return PinterestClient(new_session(), Run(settings, **timing), token)


def requests_to(sandbox, path_prefix):
    return [e for e in sandbox.exchanges if e.path.startswith(path_prefix)]


def run_sb(run, sandbox, action, inputs, **settings):
    return run(action, inputs, sandbox.base_url, token=sandbox.access_token, **dict(FAST, **settings))


def test_429_with_retry_after_then_success(sandbox, run):
    sandbox.inject_fault("status", status=429, headers={"Retry-After": "0"})
    out = run_sb(run, sandbox, "list_boards", {})
    assert out["success"], out
    assert [e.status for e in sandbox.exchanges] == [429, 200]


def test_503_twice_then_success(sandbox, run):
    sandbox.inject_fault("status", count=2, status=503)
    out = run_sb(run, sandbox, "list_pins", {"board_id": sandbox.boards[0]["id"]})
    assert out["success"], out
    assert [e.status for e in sandbox.exchanges] == [503, 503, 200]


def test_429_three_times_then_the_rate_limit_error(sandbox, run):
    sandbox.inject_fault("status", count=3, status=429, headers={"Retry-After": "0", "X-RateLimit-Reset": "0"})
    out = run_sb(run, sandbox, "list_boards", {}, max_retries=2)
    assert out["success"] is False and out["error"].startswith("Rate limited by Pinterest")
    assert "retry after" in out["error"] and "HTTP 429" in out["error"]
    assert len(sandbox.exchanges) == 3


@pytest.mark.parametrize(
    "header, value",
    [
        ("Retry-After", lambda: "67000"),
        ("X-RateLimit-Reset", lambda: "67000"),
        ("X-RateLimit-Reset", lambda: str(int(time.time()) + 67000)),  # an epoch: taken when the test runs
    ],
    ids=["retry-after", "reset-in-seconds", "reset-as-epoch"],
)
def test_a_reset_hours_away_returns_at_once_with_when_to_retry(sandbox, run, header, value):
    sandbox.inject_fault("status", status=429, headers={"Retry-After": "", header: value()})
    started = time.monotonic()
    out = run_sb(run, sandbox, "list_boards", {})
    assert out["success"] is False and "retry after 18.6 hours" in out["error"]
    assert len(sandbox.exchanges) == 1
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_create_pin_answered_5xx_is_sent_once_and_outcome_unknown(sandbox, run, status):
    board = sandbox.boards[0]
    sandbox.inject_fault("status", count=5, status=status, method="POST")
    out = run_sb(run, sandbox, "create_pin", dict(PIN, board_id=board["id"]))
    assert out["success"] is False
    assert "may or may not have been created" in out["error"] and "check the board" in out["error"]
    assert len(requests_to(sandbox, "/v5/pins")) == 1


def test_create_pin_read_timeout_is_sent_once(sandbox, run, wait_until):
    board = sandbox.boards[0]
    sandbox.inject_fault("delay", delay=0.5, method="POST")
    out = run_sb(run, sandbox, "create_pin", dict(PIN, board_id=board["id"]), timeout=0.1)
    assert out["success"] is False and "timed out" in out["error"]
    assert "may or may not have been created" in out["error"]
    # The sandbox records the delayed request once its delay is over, as it creates the pin.
    (created,) = wait_until(lambda: requests_to(sandbox, "/v5/pins"))
    assert (created.status, created.fault) == (201, "delay")
    assert sandbox.pin_count(board["id"]) == board["pin_count"] + 1  # it was created: hence "may have been"
    assert len(requests_to(sandbox, "/v5/pins")) == 1


def test_create_pin_connection_reset_mid_response_is_sent_once(sandbox, run):
    sandbox.inject_fault("reset", method="POST")
    out = run_sb(run, sandbox, "create_pin", dict(PIN, board_id=sandbox.boards[0]["id"]))
    assert out["success"] is False and "may or may not have been created" in out["error"]
    assert len(requests_to(sandbox, "/v5/pins")) == 1


def test_create_pin_dropped_connection_is_sent_once(sandbox, run):
    sandbox.inject_fault("drop", method="POST")
    out = run_sb(run, sandbox, "create_pin", dict(PIN, board_id=sandbox.boards[0]["id"]))
    assert out["success"] is False and "may or may not have been created" in out["error"]
    assert len(requests_to(sandbox, "/v5/pins")) == 1


def test_create_pin_429_is_resent_and_creates_one_pin(sandbox, run):
    board = sandbox.boards[0]
    before = sandbox.pin_count(board["id"])
    sandbox.inject_fault("status", status=429, headers={"Retry-After": "0"}, method="POST")
    out = run_sb(run, sandbox, "create_pin", dict(PIN, board_id=board["id"]))
    assert out["success"], out
    assert [e.status for e in requests_to(sandbox, "/v5/pins")] == [429, 201]
    assert sandbox.pin_count(board["id"]) == before + 1


def _refused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_create_pin_to_a_refused_port_is_retried():
    waits = []
    settings = _settings(f"http://127.0.0.1:{_refused_port()}/v5", max_retries=3)
    client = _client(settings, "pina_x", sleep=waits.append, rand=lambda: 1.0)
    with pytest.raises(ApiError) as caught:
        client.post("/pins", {"board_id": "1"})
    assert caught.value.kind == "connection" and caught.value.sent is False
    assert waits == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("kind", ["drop", "reset", "truncated_json", "non_json"])
def test_reads_retry_broken_answers_then_succeed(sandbox, run, kind):
    sandbox.inject_fault(kind, method="GET")
    out = run_sb(run, sandbox, "list_boards", {})
    if kind in ("truncated_json", "non_json"):
        # A complete 200 that is not JSON is not a transient fault: say so, don't retry.
        assert out["success"] is False and "not JSON" in out["error"]
        assert len(sandbox.exchanges) == 1
    else:
        assert out["success"], out
        assert len(sandbox.exchanges) == 2


def test_html_502_page(sandbox, run):
    sandbox.inject_fault("status", count=4, status=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>")
    out = run_sb(run, sandbox, "list_boards", {})
    assert out["success"] is False and out["error"].startswith("Pinterest server error (HTTP 502")
    assert "<html>" not in out["error"]
    assert len(sandbox.exchanges) == 4


def test_a_server_that_never_answers_is_bounded_by_the_deadline(sandbox, run):
    sandbox.inject_fault("hang", count=10)
    started = time.monotonic()
    out = run_sb(run, sandbox, "list_boards", {}, timeout=20, deadline=0.3)
    assert out["success"] is False and "timed out" in out["error"]
    assert time.monotonic() - started < 10  # the deadline cut even the first 20 s read timeout short


# A malformed or negative Retry-After is ignored: the wait is the backoff's (0.25 here).
@pytest.mark.parametrize("retry_after, expected", [("7", 7.0), ("garbage", 0.25), ("-5", 0.25)])
def test_retry_after_is_honoured_and_malformed_values_do_not_raise(sandbox, retry_after, expected):
    sandbox.inject_fault("status", status=429, headers={"Retry-After": retry_after, "X-RateLimit-Reset": ""})
    waits = []
    settings = _settings(sandbox.base_url)
    client = _client(settings, sandbox.access_token, sleep=waits.append, rand=lambda: 0.5)
    assert "items" in client.get("/boards", {"page_size": 1})
    assert waits == [expected]


def test_retry_after_as_an_http_date(sandbox):
    sandbox.inject_fault("status", status=503, headers={"Retry-After": formatdate(time.time() + 30, usegmt=True)})
    waits = []
    client = _client(_settings(sandbox.base_url), sandbox.access_token, sleep=waits.append)
    client.get("/boards", {"page_size": 1})
    assert len(waits) == 1 and 25 <= waits[0] <= 31


def test_backoff_is_exponential_with_full_jitter(sandbox):
    sandbox.inject_fault("status", count=3, status=500)
    waits = []
    client = _client(_settings(sandbox.base_url), sandbox.access_token, sleep=waits.append, rand=lambda: 1.0)
    client.get("/boards", {"page_size": 1})
    assert waits == [0.5, 1.0, 2.0]


class RawServer:
    """A one-connection-at-a-time socket server that answers with a handler(conn)."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v5"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, args=(handler,), daemon=True)
        self.thread.start()

    def _loop(self, handler):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                try:
                    handler(conn, self.stop)
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.mark.no_contract
def test_a_trickling_body_is_cut_off_at_the_deadline(run):
    def trickle(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        while not stop.wait(0.05):
            conn.sendall(b" ")

    server = RawServer(trickle)
    try:
        started = time.monotonic()
        out = run("list_boards", {}, server.base_url, timeout=1, deadline=0.3, max_retries=0)
        assert out["success"] is False and "deadline" in out["error"]
        # Each byte comes within the read timeout: only the deadline stops it (the body would
        # take over an hour); 10 s leaves a margin for a machine ten times slower.
        assert time.monotonic() - started < 10
    finally:
        server.close()


@pytest.mark.no_contract
def test_an_oversized_body_is_not_read_whole(run):
    def huge(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60000000\r\n\r\n")
        block = b" " * 1_000_000
        for _ in range(60):
            if stop.is_set():
                return
            conn.sendall(block)

    server = RawServer(huge)
    try:
        out = run("list_boards", {}, server.base_url, max_retries=0)
        assert out["success"] is False and "larger than 20 MB" in out["error"]
    finally:
        server.close()
