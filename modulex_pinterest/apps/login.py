"""``modulex-pinterest auth login``: the OAuth 2.0 authorization-code flow for a
person at a terminal, as a host would run it from the manifest's OAuth fields.

It prints the authorization URL (the manifest's scopes, a loopback
``redirect_uri``, a random ``state``), waits for the one redirect on a
loopback listener, rejects a wrong ``state``, exchanges the code at the token
URL with HTTP Basic (app id and secret), and stores the credentials with 0600
permissions. Nothing secret is printed.
"""

import ipaddress
import secrets
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

REDIRECT_PATH = "/"
PAGE = "<!doctype html><title>modulex-pinterest</title><p>{}</p>"


class LoginError(Exception):
    pass


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback_url(url):
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def oauth_endpoints(oauth_mode, base_url=None, authorization_url=None, token_url=None):
    """The authorization and token URLs: the manifest's, or the sandbox's when
    ``base_url`` points at a loopback server (whose authorization page is
    ``/oauth/`` at its root)."""
    if base_url:
        token_url = token_url or base_url.rstrip("/") + "/oauth/token"
        if _is_loopback_url(base_url):
            authorization_url = authorization_url or _origin(base_url) + "/oauth/"
    token_url = token_url or oauth_mode["token_url"]
    authorization_url = authorization_url or oauth_mode["authorization_url"]
    for url in (token_url, authorization_url):
        if urlsplit(url).scheme != "https" and not _is_loopback_url(url):
            raise LoginError(f"refusing to send credentials over plain http to {_origin(url)}")
    return authorization_url, token_url


class _Redirect(BaseHTTPRequestHandler):
    """Answers the browser's redirect and hands its query to the waiting flow."""

    def log_message(self, *args):
        pass

    def do_GET(self):
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


def wait_for_redirect(server, deadline):
    while time.monotonic() < deadline:
        server.timeout = max(0.1, min(1.0, deadline - time.monotonic()))
        server.handle_request()
        if server.received is not None:
            return server.received
    raise LoginError("no answer from the browser in time; run the login again")


def login(oauth_mode, app_id, app_secret, store, *, base_url=None, authorization_url=None, port=8085,
          wait=300.0, timeout=(5.0, 30.0), say=print):
    """Run the flow and store the credentials; returns them (never printed)."""
    import requests

    authorization_url, token_url = oauth_endpoints(oauth_mode, base_url, authorization_url)
    state = secrets.token_urlsafe(32)
    server = HTTPServer(("127.0.0.1", port), _Redirect)
    server.expected_state, server.received = state, None
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
        raise LoginError(f"Pinterest did not authorize the app: {answer.get('error')[:100]}")
    code = answer.get("code")
    if not code:
        raise LoginError("the redirect carried no authorization code")
    try:
        response = requests.post(token_url, auth=(app_id, app_secret), timeout=timeout, allow_redirects=False, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "continuous_refresh": "true"})
    except requests.RequestException as exc:
        raise LoginError(f"could not reach the token URL {_origin(token_url)} ({type(exc).__name__})") from None
    try:
        tokens = response.json()
    except ValueError:
        tokens = {}
    if response.status_code != 200 or not isinstance(tokens, dict) or not tokens.get("access_token"):
        message = tokens.get("message") if isinstance(tokens, dict) else None
        raise LoginError(f"the code exchange failed (HTTP {response.status_code})"
                         + (f": {str(message)[:200]}" if message else ""))
    credentials = {"mode": "oauth2", "app_id": app_id, "app_secret": app_secret,
                   "access_token": tokens["access_token"], "refresh_token": tokens.get("refresh_token")}
    if isinstance(tokens.get("expires_in"), int) and tokens["expires_in"] > 0:
        credentials["expires_at"] = int(time.time()) + tokens["expires_in"]
    store.save(credentials)
    return credentials
