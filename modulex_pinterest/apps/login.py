"""``modulex-pinterest auth login``: the OAuth 2.0 authorization-code flow for a
person at a terminal, as a host would run it from the manifest's OAuth fields.

It prints the authorization URL (the manifest's scopes, a loopback
``redirect_uri``, a random ``state``), waits for the redirect on a loopback
listener (answering and ignoring any other request: another path, a wrong or
missing ``state``), has the plugin exchange the code (through the host: the
plugin owns the token endpoint and its rules, as for a refresh), and puts the
credentials in the store. Nothing secret is printed, even when the token
endpoint echoes what it was sent.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

from .. import MASK
from ..contract import Credentials
from ..host import StoreError

# (app credentials, code, redirect_uri) -> the plugin's answer (Host.exchange_code)
Exchange = Callable[[Credentials, str, str], dict[str, Any]]

REDIRECT_PATH = "/"
PAGE = "<!doctype html><title>modulex-pinterest</title><p>{}</p>"
MAX_ERROR = 1000  # characters of an error shown at the terminal


class LoginError(Exception):
    """The flow did not end with stored credentials; the message says why, without secrets."""


class ListenError(LoginError):
    """The loopback port for the redirect could not be had (in use, say): nothing was asked of the browser."""


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


def authorization_endpoint(
    oauth_mode: dict[str, Any], base_url: str | None = None, authorization_url: str | None = None
) -> str:
    """Where the browser goes: the one given, else the sandbox's authorization
    page (``/oauth/`` at its root) when ``base_url`` is a loopback sandbox, else
    the manifest's. (Where the code is exchanged is the plugin's business.)"""
    if authorization_url:
        return authorization_url
    if base_url and _is_loopback_url(base_url):
        return _origin(base_url) + "/oauth/"
    return str(oauth_mode["authorization_url"])


class _RedirectServer(ThreadingHTTPServer):
    """The loopback listener: the ``state`` it expects and the one redirect that carried it."""

    daemon_threads = True  # a connection left open (a browser's preconnect) does not hold up the exit

    def __init__(self, port: int, expected_state: str) -> None:
        super().__init__(("127.0.0.1", port), _Redirect)
        self.expected_state = expected_state.encode()
        self.received: dict[str, str] | None = None
        self.answered = threading.Event()  # set once the kept redirect's page is sent
        self._lock = threading.Lock()

    def keep(self, query: dict[str, str]) -> bool:
        """Keep the first redirect with this login's state; False for any later one."""
        with self._lock:
            if self.received is not None:
                return False
            self.received = query
            return True


class _Redirect(BaseHTTPRequestHandler):
    """Answers each request: the login's redirect is handed to the waiting flow, anything else is ignored."""

    server: _RedirectServer
    timeout = 10  # seconds a connection may stay silent before it is closed

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        parts = urlsplit(self.path)
        if parts.path != REDIRECT_PATH:
            self._page(404, "Not found. This address only takes the login's redirect.")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if not hmac.compare_digest(query.get("state", "").encode(), self.server.expected_state):
            self._page(
                400, "The state did not match: this answer was not for the login waiting here, so it was ignored."
            )
            return
        if not self.server.keep(query):
            self._page(400, "This login has already been answered.")
            return
        if "error" in query:
            self._page(400, "Pinterest reported an error; see the terminal.")
        else:
            self._page(200, "Authorized. You can close this window and go back to the terminal.")
        self.server.answered.set()  # after the page, so the flow's end cannot cut it short

    def _page(self, status: int, text: str) -> None:
        body = PAGE.format(text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def unwritable(store: Any) -> str | None:
    """Why a file store's folder cannot take the credentials (the store's own probe,
    truthful for root too), or ``None``; a store without the probe is not checked."""
    check = getattr(store, "check_writable", None)
    try:
        if check is not None:
            check()
        return None
    except StoreError:
        folder = os.path.dirname(getattr(store, "target", ""))
    if os.path.isdir(folder):
        why = "it is not writable"
    else:
        why = "it is not a folder" if os.path.exists(folder) else "it does not exist"
    return f"cannot store credentials in {folder}: {why}; nothing was authorized"


def wait_for_redirect(server: _RedirectServer, wait: float) -> dict[str, str]:
    """Serve until the redirect with the right state arrives or ``wait`` seconds pass."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        answered = server.answered.wait(wait)
    finally:
        server.shutdown()
        thread.join()
    if not answered or server.received is None:
        raise LoginError(
            f"no answer from the browser in {wait:g} s; if its page showed an error (an app id "
            "or a redirect URI the server does not know, say), correct that and run the login again"
        )
    return dict(server.received)


def _printable(text: str) -> str:
    """``text`` without control characters (a terminal escape sequence, say)."""
    return "".join(c if c.isprintable() else " " for c in text)


def _forms(secret: str) -> set[str]:
    """The ways a server may echo ``secret``: as is, percent-encoded, JSON-escaped."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


def redacted(text: str, hidden: Iterable[str]) -> str:
    """``text`` with each secret (in each of its forms) masked, control characters out, and cut short."""
    for secret in sorted({form for s in hidden if len(s) >= 4 for form in _forms(s)}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _printable(text)
    return text if len(text) <= MAX_ERROR else text[:MAX_ERROR] + "..."


def _login_secrets(app_id: str, app_secret: str, code: str, credentials: Any) -> list[str]:
    """The app secret, its HTTP Basic forms, the code and any token the exchange handed back."""
    basic = f"{app_id}:{app_secret}".encode()
    found = [app_secret, code]
    for encoded in (base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode()):
        found += [encoded, encoded.rstrip("=")]
    if isinstance(credentials, dict):
        found += [str(credentials[k]) for k in ("access_token", "refresh_token") if credentials.get(k)]
    return found


def login(
    oauth_mode: dict[str, Any],
    app_id: str,
    app_secret: str,
    store: Any,
    exchange: Exchange,
    *,
    base_url: str | None = None,
    authorization_url: str | None = None,
    port: int = 8085,
    wait: float = 300.0,
    say: Callable[[str], None] = print,
    listening: Callable[[], None] | None = None,
) -> Credentials:
    """Run the flow and store the credentials; returns them (never printed). ``listening()``
    is called once the redirect's port is held, before anything is asked of the browser."""
    authorization_url = authorization_endpoint(oauth_mode, base_url, authorization_url)
    state = secrets.token_urlsafe(32)
    try:
        server = _RedirectServer(port, state)
    except OSError as exc:
        raise ListenError(
            f"cannot listen on 127.0.0.1:{port} for the redirect ({exc.strerror}); choose another --port"
        ) from None
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{REDIRECT_PATH}"
    try:
        if listening is not None:
            listening()
        query = urlencode(
            {
                "client_id": app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": ",".join(oauth_mode["scopes"]),
                "state": state,
            }
        )
        say("Open this URL in a browser and allow access:")
        say(f"{authorization_url}?{query}")
        say(f"Waiting up to {wait:.0f} s for the redirect to {redirect_uri} ...")
        answer = wait_for_redirect(server, wait)
    finally:
        server.server_close()
    if "error" in answer:
        raise LoginError(f"Pinterest did not authorize the app: {_printable(answer['error'][:100])}")
    code = answer.get("code")
    if not code:
        raise LoginError("the redirect carried no authorization code")
    result = exchange({"mode": "oauth2", "app_id": app_id, "app_secret": app_secret}, code, redirect_uri)
    credentials: Credentials = result.get("credentials") or {}
    hidden = _login_secrets(app_id, app_secret, code, credentials)
    if not result.get("success") or not credentials:
        raise LoginError(redacted(str(result.get("error") or "the code exchange failed"), hidden))
    try:
        store.save(credentials)
    except (StoreError, OSError) as exc:  # OSError: the file store's lock file could not be made
        raise LoginError(redacted(f"the credentials could not be stored ({exc}); authorize again", hidden)) from None
    return credentials
