"""Shared fixtures: the installed plugin through the reference host, the
embedded sandbox, a scripted loopback server, and the contract check that
holds every request the plugin sends to Pinterest's OpenAPI description."""

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import requests

from modulex_pinterest.host import Host
from modulex_pinterest.host.budget import LocalRateBudget
from modulex_pinterest.sandbox import Sandbox
from scripted_server import ScriptedServer

# The reference host's rate budget is shared by every process of the machine, through files: one
# directory per test process (per xdist worker), so parallel tests using the same token (the sandbox's
# demo one) do not pace each other. XDG_RUNTIME_DIR too: the tests start commands without MODULEX_*.
_BUDGET_DIR = tempfile.mkdtemp(prefix="modulex-budget-")
atexit.register(shutil.rmtree, _BUDGET_DIR, True)
os.environ["MODULEX_PINTEREST_BUDGET_DIR"] = os.environ["XDG_RUNTIME_DIR"] = _BUDGET_DIR

PLUGIN = "pinterest"
TOKEN = "pina_TEST-token-5ec7e7-do-not-leak"
# Every action the plugin offers, in the manifest's order: the four of the product page, the account reads,
# the media ones, the management ones, then the analytics.
ACTIONS = [
    "list_boards",
    "get_board_sections",
    "create_pin",
    "list_pins",
    "list_account_pins",
    "search_pins",
    "search_boards",
    "get_user_account",
    "create_pin_from_file",
    "create_carousel_pin",
    "create_video_pin",
    "create_board",
    "get_board",
    "update_board",
    "delete_board",
    "create_board_section",
    "get_pin",
    "update_pin",
    "delete_pin",
    "save_pin",
    "get_account_analytics",
    "get_top_pins_analytics",
    "get_pin_analytics",
    "get_pins_analytics",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "no_contract: the test sends requests Pinterest's spec would reject on purpose")


@pytest.fixture(scope="session")
def session_host():
    return Host()


@pytest.fixture
def host(session_host):
    """The reference host, with the plugin discovered through its entry point
    (once per session), and a rate budget of the test's own: one test's 429
    must not make the next one wait."""
    session_host.budget = LocalRateBudget()
    return session_host


@pytest.fixture(scope="session")
def contract():
    """Pinterest's OpenAPI contract, or None when the spec file is absent
    (test_contract.py reports the skip with its reason)."""
    import openapi_contract

    if openapi_contract.spec_path() is None:
        return None
    return openapi_contract.load_contract()


def _check_contract(request, contract, exchanges, responses=True):
    if contract is None or request.node.get_closest_marker("no_contract"):
        return
    for exchange in exchanges:
        if not exchange.path.startswith("/v5/"):
            continue  # the sandbox's authorization page stands in for www.pinterest.com, not the API
        if responses:
            contract.check_exchange(exchange)
        else:
            contract.check_request(exchange.method, exchange.path, exchange.query, exchange.headers, exchange.body)


@pytest.fixture
def sandbox(request, contract):
    """A fresh sandbox per test; afterwards every request it received and
    every normal answer it gave must match Pinterest's OpenAPI description."""
    with Sandbox() as sb:
        yield sb
        exchanges = sb.exchanges
    _check_contract(request, contract, exchanges)


@pytest.fixture
def http(sandbox):
    """A plain requests session carrying the sandbox's token (no ~/.netrc, no proxies)."""
    with requests.Session() as session:
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {sandbox.access_token}"
        yield session


@pytest.fixture
def server(request, contract):
    """A scripted loopback server; the plugin's requests to it are contract-checked too."""
    with ScriptedServer() as srv:
        yield srv
    _check_contract(request, contract, srv.requests, responses=False)


@pytest.fixture
def run(host):
    """Run an action through the host: run(action, inputs, base_url, token=TOKEN, **settings)."""

    def _run(action, inputs, base_url, token=TOKEN, **settings):
        credentials = {"mode": "access_token", "access_token": token} if token is not None else {}
        return host.run(PLUGIN, action, inputs, credentials, dict(settings, base_url=base_url))

    return _run


@pytest.fixture
def wait_until():
    """wait_until(predicate, timeout=5): poll until predicate() returns something
    true and return it; fail after ``timeout`` seconds. For what a server records
    on a thread of its own (a delayed answer finishing after the client gave up)."""

    def _wait_until(predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() > deadline:
                pytest.fail(f"not true within {timeout} s: {predicate}")
            time.sleep(0.005)
        return value

    return _wait_until


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(directory):
    """A throwaway redis-server on a free loopback port: (process, url), or
    (None, why) when it did not come up. Another program may take the port
    between choosing and binding it, so try a few."""
    why = "redis-server did not start"
    for _ in range(3):
        port = _free_port()
        log = directory / f"redis-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(directory),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if _redis_answers(port):
                return process, f"redis://127.0.0.1:{port}/0"
            time.sleep(0.02)
        process.kill()
        process.wait()
        why = f"redis-server on port {port} did not answer PING: {log.read_text(errors='replace')[-500:]}"
    return None, why


def _no_redis(why):
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis server's URL: $MODULEX_TEST_REDIS_URL, else a redis-server
    started for this session. Without either, tests that need it skip, except
    under CI=true, where they fail: CI must test the Redis store."""
    url = os.environ.get("MODULEX_TEST_REDIS_URL")
    if url:
        yield url
        return
    if shutil.which("redis-server") is None:
        _no_redis("no Redis: set MODULEX_TEST_REDIS_URL=redis://host:port/db or put redis-server on PATH")
    process, url = _start_redis(tmp_path_factory.mktemp("redis"))
    if process is None:
        _no_redis(url)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
