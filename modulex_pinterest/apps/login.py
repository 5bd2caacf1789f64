"""``modulex-pinterest auth login``: the OAuth 2.0 authorization-code flow for a
person at a terminal, as a host would run it from the manifest's OAuth fields.

It holds a loopback port for the redirect; asks a loopback authorization page
(the sandbox's) with ``HEAD`` whether it takes the request, so an app id it does
not know fails at once instead of after the wait; says the authorization URL
(the manifest's scopes, a loopback ``redirect_uri``, a random ``state``) and
opens it in a browser when there is one; then waits for the redirect on the
loopback listener (answering and ignoring any other request: another path, a
wrong or missing ``state``) or for the address the browser ended on, pasted at
the terminal (a browser on another machine cannot reach this one's loopback).
It has the plugin exchange the code (through the host: the plugin owns the
token endpoint and its rules, as for a refresh), and puts the credentials in
the store. Nothing secret is said, even when the token endpoint echoes what it
was sent. What it says goes through ``say`` (the CLI: stderr, so stdout holds
only the result).
"""

from __future__ import annotations

import base64
import hmac
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

from .. import MASK
from ..contract import Credentials
from ..host import StoreError
from .serve import is_loopback_host

# (app credentials, code, redirect_uri) -> the plugin's answer (Host.exchange_code)
Exchange = Callable[[Credentials, str, str], dict[str, Any]]

REDIRECT_PATH = "/"
PAGE = "<!doctype html><title>modulex-pinterest</title><p>{}</p>"
MAX_ERROR = 1000  # characters of an error shown at the terminal


class LoginError(Exception):
    """The flow did not end with stored credentials; the message says why, without secrets."""


class ListenError(LoginError):
    """The loopback port for the redirect could not be had (in use, say): nothing was asked of the browser."""


class RefusedError(LoginError):
    """The authorization page refused this login's request before any browser saw it (the sandbox's
    page, for an app id it does not know): nothing was asked of the browser."""


REFUSED_STATUSES = (400, 401, 403)  # a page that says so refuses the request; any other answer decides nothing
PROBE_TIMEOUT = 10.0  # seconds for the authorization page's HEAD answer
CONSOLE_BROWSERS = frozenset({"www-browser", "links", "links2", "elinks", "lynx", "w3m"})
PASTE_LIMIT = 8192  # bytes of a pasted line kept (a redirect address is a few hundred)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


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
    """Serve until the redirect with the right state arrives (or is pasted) or ``wait`` seconds pass."""
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


def check_authorization_page(url: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Ask a loopback authorization page (the sandbox's) whether it takes this login's request: a
    ``HEAD`` request, so no code is issued and no browser is needed. 400, 401 or 403: :class:`RefusedError`;
    nobody listening: :class:`LoginError`; any other answer (404 or 405 from a server that has no such
    page for ``HEAD``) decides nothing, and the login goes on."""
    parts = urlsplit(url)
    where = f"{_origin(url)}{parts.path or '/'}"
    connection = (http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection)(
        parts.hostname or "", parts.port, timeout=timeout
    )
    try:
        connection.request("HEAD", f"{parts.path or '/'}?{parts.query}")
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise LoginError(f"cannot reach the authorization page at {where} ({why}): is the server running?") from None
    finally:
        connection.close()
    if status in REFUSED_STATUSES:
        raise RefusedError(f"the authorization page at {where} refuses this login's request (HTTP {status})")


def browser_available(environ: dict[str, str] | None = None) -> bool:
    """Whether a browser the person can see may be opened here: one named in ``$BROWSER``, else on
    macOS and Windows the system's, else (X11 or Wayland) a graphical one ``webbrowser`` finds. Never
    a console browser (lynx, w3m...): it would take over the terminal the login talks on."""
    env = os.environ if environ is None else environ
    if env.get("BROWSER"):
        command = env["BROWSER"].split(os.pathsep)[0].split()
        return bool(command) and os.path.basename(command[0]) not in CONSOLE_BROWSERS
    if sys.platform in ("darwin", "win32"):
        return True
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return False
    import webbrowser

    try:
        name = getattr(webbrowser.get(), "name", "")
    except webbrowser.Error:
        return False
    return os.path.basename(str(name)) not in CONSOLE_BROWSERS


def open_browser(url: str) -> bool:
    """Open ``url`` with ``webbrowser`` from a process of its own: whatever the browser prints stays off
    this command's stdout, and a browser that runs until closed does not hold up the login. False when
    that process cannot be started."""
    try:
        subprocess.Popen(
            [sys.executable, "-c", "import sys, webbrowser; webbrowser.open(sys.argv[1])", url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    return True


def _pasted_query(text: str) -> dict[str, str]:
    """The query of a pasted address (or of a bare ``code=...&state=...``)."""
    text = text.strip().strip("<>\"'")
    query = urlsplit(text).query if "?" in text else text
    return {k: v[0] for k, v in parse_qs(query).items()}


def _read_pasted(server: _RedirectServer, fd: int, say: Callable[[str], None]) -> None:
    """Lines typed or pasted on ``fd`` (a terminal): the first address carrying this login's state is
    its answer, as if the browser had reached the listener. Read with ``os.read``, never through
    ``sys.stdin``, so this daemon thread holds no lock the interpreter needs at exit."""
    pending = b""
    while not server.answered.is_set():
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:  # end of input: only the listener can answer now
            return
        pending = (pending + chunk)[-PASTE_LIMIT:]
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            text = line.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            query = _pasted_query(text)
            if not hmac.compare_digest(query.get("state", "").encode(), server.expected_state):
                say(
                    "that is not the address this login's redirect ended on (its state does not match); "
                    "paste the whole address from the browser's address bar"
                )
                continue
            if server.keep(query):
                server.answered.set()
            return


def _headless_help(redirect_uri: str, port: int, paste: bool) -> str:
    """What to do when the browser is on another machine than this one."""
    pasting = (
        "copy the whole address from its address bar and paste it here, or "
        if paste
        else "run the login again from a terminal to paste the address it ended on, or "
    )
    return (
        "No browser on this machine? Open the URL on any machine. If, after you allow access, its browser "
        f"cannot reach {redirect_uri} (an error page), {pasting}"
        f"before opening the URL, forward the port from the browser's machine: ssh -L {port}:127.0.0.1:{port} "
        "THIS-MACHINE"
    )


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
    browser: Callable[[str], bool] | None = None,
    paste_fd: int | None = None,
) -> Credentials:
    """Run the flow and store the credentials; returns them (never said). ``listening()`` is called
    once the redirect's port is held and a loopback authorization page has not refused the request,
    before the URL is said. ``browser(url)`` opens it (None: no browser here, or not wanted);
    ``paste_fd``: a terminal to read the redirected address from, pasted by hand."""
    authorization_url = authorization_endpoint(oauth_mode, base_url, authorization_url)
    state = secrets.token_urlsafe(32)
    try:
        server = _RedirectServer(port, state)
    except OSError as exc:
        raise ListenError(
            f"cannot listen on 127.0.0.1:{port} for the redirect ({exc.strerror}); choose another --port"
        ) from None
    held = server.server_address[1]
    redirect_uri = f"http://127.0.0.1:{held}{REDIRECT_PATH}"
    try:
        query = urlencode(
            {
                "client_id": app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": ",".join(oauth_mode["scopes"]),
                "state": state,
            }
        )
        url = f"{authorization_url}?{query}"
        if _is_loopback_url(authorization_url):  # the sandbox's page, or a stand-in's: ask it first
            check_authorization_page(url)
        if listening is not None:
            listening()
        say("Open this URL in a browser and allow access:")
        say(url)
        if browser is not None and browser(url):
            say("(opening it in your browser; --no-browser not to)")
        say(_headless_help(redirect_uri, held, paste_fd is not None))
        if paste_fd is not None:
            threading.Thread(target=_read_pasted, args=(server, paste_fd, say), daemon=True).start()
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
