"""``modulex-pinterest auth login``: the OAuth 2.0 authorization-code flow for a
person at a terminal, as a host would run it from the manifest's OAuth fields.

It prints the authorization URL (the manifest's scopes, a loopback
``redirect_uri``, a random ``state``), waits for the one redirect on a
loopback listener, rejects a wrong ``state``, has the plugin exchange the
code (through the host: the plugin owns the token endpoint and its rules, as
for a refresh), and puts the credentials in the store. Nothing secret is
printed.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..contract import Credentials

# (app credentials, code, redirect_uri) -> the plugin's answer (Host.exchange_code)
Exchange = Callable[[Credentials, str, str], dict[str, Any]]

REDIRECT_PATH = "/"
PAGE = "<!doctype html><title>modulex-pinterest</title><p>{}</p>"


class LoginError(Exception):
    """The flow did not end with stored credentials; the message says why, without secrets."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authorization_endpoint(oauth_mode: dict[str, Any], base_url: str | None = None,
                           authorization_url: str | None = None) -> str:
    """Where the browser goes: the one given, else the sandbox's authorization
    page (``/oauth/`` at its root) when ``base_url`` is a loopback sandbox, else
    the manifest's. (Where the code is exchanged is the plugin's business.)"""
    if authorization_url:
        return authorization_url
    if base_url and _is_loopback_url(base_url):
        return _origin(base_url) + "/oauth/"
    return str(oauth_mode["authorization_url"])


class _RedirectServer(HTTPServer):
    """The loopback listener: the ``state`` it expects and the query it received."""

    def __init__(self, port: int, expected_state: str) -> None:
        super().__init__(("127.0.0.1", port), _Redirect)
        self.expected_state = expected_state
        self.received: dict[str, str] | None = None


class _Redirect(BaseHTTPRequestHandler):
    """Answers the browser's redirect and hands its query to the waiting flow."""

    server: _RedirectServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        parts = urlsplit(self.path)
        if parts.path != REDIRECT_PATH:
            self.send_error(404)
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.received = query
        if query.get("state") != self.server.expected_state:
            status, text = 400, "The state did not match: this answer was not for this login. Nothing was stored."
        elif "error" in query:
            status, text = 400, "Pinterest reported an error; see the terminal."
        else:
            status, text = 200, "Authorized. You can close this window and go back to the terminal."
        body = PAGE.format(text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def wait_for_redirect(server: _RedirectServer, deadline: float) -> dict[str, str]:
    while time.monotonic() < deadline:
        server.timeout = max(0.1, min(1.0, deadline - time.monotonic()))
        server.handle_request()
        if server.received is not None:
            return dict(server.received)
    raise LoginError("no answer from the browser in time; run the login again")


def login(oauth_mode: dict[str, Any], app_id: str, app_secret: str, store: Any, exchange: Exchange, *,
          base_url: str | None = None, authorization_url: str | None = None, port: int = 8085,
          wait: float = 300.0, say: Callable[[str], None] = print) -> Credentials:
    """Run the flow and store the credentials; returns them (never printed)."""
    authorization_url = authorization_endpoint(oauth_mode, base_url, authorization_url)
    state = secrets.token_urlsafe(32)
    server = _RedirectServer(port, state)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{REDIRECT_PATH}"
    try:
        query = urlencode({"client_id": app_id, "redirect_uri": redirect_uri, "response_type": "code",
                           "scope": ",".join(oauth_mode["scopes"]), "state": state})
        say("Open this URL in a browser and allow access:")
        say(f"{authorization_url}?{query}")
        say(f"Waiting up to {wait:.0f} s for the redirect to {redirect_uri} ...")
        answer = wait_for_redirect(server, time.monotonic() + wait)
    finally:
        server.server_close()
    if answer.get("state") != state:
        raise LoginError("the redirect's state did not match this login (a forged or stale answer); nothing was stored")
    if "error" in answer:
        raise LoginError(f"Pinterest did not authorize the app: {answer['error'][:100]}")
    code = answer.get("code")
    if not code:
        raise LoginError("the redirect carried no authorization code")
    result = exchange({"mode": "oauth2", "app_id": app_id, "app_secret": app_secret}, code, redirect_uri)
    if not result.get("success") or not result.get("credentials"):
        raise LoginError(str(result.get("error") or "the code exchange failed"))
    credentials: Credentials = result["credentials"]
    store.save(credentials)
    return credentials
