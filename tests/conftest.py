"""Shared fixtures: the installed plugin through the reference host, the
embedded sandbox, a scripted loopback server, and the contract check that
holds every request the plugin sends to Pinterest's OpenAPI description."""

import pytest

from modulex_pinterest.host import Host
from modulex_pinterest.sandbox import Sandbox
from scripted_server import ScriptedServer

PLUGIN = "pinterest"
TOKEN = "pina_TEST-token-5ec7e7-do-not-leak"


def pytest_configure(config):
    config.addinivalue_line("markers", "no_contract: the test sends requests Pinterest's spec would reject on purpose")


@pytest.fixture(scope="session")
def host():
    """The reference host, with the plugin discovered through its entry point."""
    return Host()


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
