"""The endpoints: request in, response out, with no sockets involved.

Each endpoint follows its operation in Pinterest's OpenAPI description
(``boards/list``, ``board_sections/list``, ``boards/list_pins``,
``board_sections/list_pins``, ``pins/create``, ``pins/list``, ``search_user_pins/list``,
``search_user_boards/get``, ``user_account/get``,
``oauth/token``, ``media/create``, ``media/list``, ``media/get``; the
board and pin management operations are in ``manage.py``) plus the
browser-facing authorization page ``GET /oauth/`` (``HEAD`` answers its status
without issuing a code: 400 for an app the sandbox does not know). ``POST /pins`` takes every
``media_source`` type (``sources.py``); media uploads live in ``media.py``, and
their upload endpoint, outside ``/v5``, in ``upload.py``.
Order of checks: route (404), method (405), bearer token and scopes (401),
rate limit (429, only with ``rate_limit`` set), parameters and body
(400/413/415), then existence (404). A 401 spends no rate-limit budget (the
bucket is the token's app's, unknown before the token is); every later answer
does, and carries ``X-RateLimit-Limit``/``X-RateLimit-Remaining``.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import analytics, manage, sources
from .auth import KNOWN_SCOPES, Auth, parse_scopes
from .errors import ApiError, bad_request
from .media import UPLOAD_PATH, MediaStore
from .ratelimit import RateLimiter
from .store import PRIVACY_FILTERS, Store
from .wire import (
    Request,
    Response,
    Route,
    check_pin_text,
    dumps,
    error_response,
    is_digits,
    is_http_url,
    json_body,
    json_response,
)

__all__ = ["Api", "Request", "Response", "dumps", "json_response"]  # server.py takes these from here
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 25, 250
INTEGER = re.compile(r"[+-]?[0-9]+")
HOST = re.compile(r"(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def consent_error(text: str) -> Response:
    """The consent page's own error, for the person at the browser: a short HTML page,
    as Pinterest's web page shows one (not the API's JSON)."""
    body = f"<!doctype html><title>Cannot authorize</title><h1>Cannot authorize</h1><p>{html.escape(text)}</p>"
    return Response(400, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def page_size(req: Request) -> int:
    raw = req.arg("page_size")
    if raw is None:
        return PAGE_SIZE_DEFAULT
    if not INTEGER.fullmatch(raw):
        raise bad_request(f"Parameter 'page_size' was not numeric (was {raw[:40]!r}).")
    value = int(raw)
    if not 1 <= value <= PAGE_SIZE_MAX:
        raise bad_request(f"Parameter 'page_size' must be between 1 and {PAGE_SIZE_MAX} (was {value}).")
    return value


def bookmark(req: Request) -> str | None:
    return req.arg("bookmark") or None


def validate_pin_create(req: Request) -> dict:
    """PinCreate, plus what Pinterest enforces beyond the schema (board_id, media_source)."""
    body = json_body(req, "Pin")
    if body.get("board_id") is None:
        raise bad_request("Invalid request: 'board_id' is required.")
    for name in ("board_id", "board_section_id"):
        if body.get(name) is not None and not is_digits(body[name]):
            raise bad_request(f"Invalid request: '{name}' must be a string of digits.")
    sources.check(body.get("media_source"))
    check_pin_text(body)
    return body


class Api:
    def __init__(
        self, store: Store, auth: Auth, limiter: RateLimiter | None = None, media: MediaStore | None = None
    ) -> None:
        self.store = store
        self.media = media if media is not None else MediaStore()
        self.upload_host = "127.0.0.1"  # host:port of upload_url when a request has no usable Host
        self.auth = auth
        self.limiter = limiter
        # (path pattern, method, required scopes or None for no bearer auth, handler)
        self.routes: list[Route] = [
            ("/v5/boards", "GET", ("boards:read",), self.list_boards),
            ("/v5/boards/{board_id}/sections", "GET", ("boards:read",), self.list_sections),
            ("/v5/boards/{board_id}/pins", "GET", ("boards:read", "pins:read"), self.list_pins),
            ("/v5/boards/{board_id}/sections/{section_id}/pins", "GET", ("boards:read", "pins:read"), self.list_pins),
            ("/v5/pins", "POST", ("boards:read", "boards:write", "pins:read", "pins:write"), self.create_pin),
            ("/v5/pins", "GET", ("boards:read", "pins:read"), self.list_account_pins),
            ("/v5/search/pins", "GET", ("boards:read", "pins:read"), self.search_pins),
            ("/v5/search/boards", "GET", ("boards:read",), self.search_boards),
            ("/v5/user_account", "GET", ("user_accounts:read",), self.user_account),
            ("/v5/media", "POST", ("pins:read", "pins:write"), self.create_media),
            ("/v5/media", "GET", ("pins:read",), self.list_media),
            ("/v5/media/{media_id}", "GET", ("pins:read",), self.get_media),
            ("/v5/oauth/token", "POST", None, self.token),
            ("/oauth", "GET", None, self.authorize),
            ("/oauth", "HEAD", None, self.authorize_check),
        ]
        # Before manage's: /v5/pins/analytics is not /v5/pins/{pin_id}.
        self.routes += analytics.Analytics(store).routes()
        self.routes += manage.Manage(store).routes()

    @staticmethod
    def _match(pattern: str, path: str) -> dict[str, str] | None:
        want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
        if len(want) != len(got):
            return None
        params = {}
        for w, g in zip(want, got, strict=True):
            if w.startswith("{"):
                params[w[1:-1]] = g
            elif w != g:
                return None
        return params

    def handle(self, req: Request) -> Response:
        try:
            return self._dispatch(req)
        except ApiError as err:
            return error_response(err)

    def _dispatch(self, req: Request) -> Response:
        allowed = []
        for pattern, method, scopes, handler in self.routes:
            params = self._match(pattern, req.path)
            if params is None:
                continue
            if method != req.method:
                allowed.append(method)
                continue
            limit_headers: dict[str, str] = {}
            if scopes is not None:
                grant = self.auth.check_bearer(req.headers.get("authorization"), scopes)
                req.app_id = grant.app_id
                if self.limiter is not None:
                    limit_headers = self.limiter.charge(analytics.budget_key(grant.app_id, pattern))
            try:
                for name, value in params.items():
                    if not is_digits(value):
                        raise bad_request(f"'{name}' must match the pattern: ^\\d+$")
                req.params = params
                resp = handler(req)
            except ApiError as err:
                err.headers.update(limit_headers)
                raise
            resp.headers.update(limit_headers)
            return resp
        if allowed:
            raise ApiError(405, 405, f"Method {req.method} not allowed here.", headers={"Allow": ", ".join(allowed)})
        raise ApiError(404, 404, "Not found: no such endpoint.")

    # ----- endpoints ------------------------------------------------------

    def list_boards(self, req: Request) -> Response:
        privacy = req.arg("privacy") or "ALL"
        if privacy not in PRIVACY_FILTERS:
            raise bad_request(f"Parameter 'privacy' must be one of {', '.join(sorted(PRIVACY_FILTERS))}.")
        size = page_size(req)
        return json_response(200, self.store.list_boards(privacy, bookmark(req), size))

    def list_sections(self, req: Request) -> Response:
        size = page_size(req)
        return json_response(200, self.store.list_sections(req.params["board_id"], bookmark(req), size))

    def list_pins(self, req: Request) -> Response:
        size = page_size(req)
        return json_response(
            200, self.store.list_pins(req.params["board_id"], req.params.get("section_id"), bookmark(req), size)
        )

    def list_account_pins(self, req: Request) -> Response:
        size = page_size(req)
        return json_response(200, self.store.list_account_pins(bookmark(req), size))

    def search_pins(self, req: Request) -> Response:
        query = req.arg("query")
        if not query:
            raise bad_request("Parameter 'query' is required.")
        return json_response(200, self.store.search_pins(query, bookmark(req), PAGE_SIZE_DEFAULT))

    def search_boards(self, req: Request) -> Response:
        size = page_size(req)
        return json_response(200, self.store.search_boards(req.arg("query") or "", bookmark(req), size))

    def create_pin(self, req: Request) -> Response:
        body = validate_pin_create(req)
        source = body["media_source"]
        size = 0
        if source["source_type"] == "video_id":
            size = self.media.for_pin(source["media_id"], req.app_id).size or 0
        pin = self.store.create_pin(body, lambda pin_id: sources.pin_media(source, pin_id, size))
        return json_response(201, pin)

    def create_media(self, req: Request) -> Response:
        body = json_body(req, "media upload")
        if body.get("media_type") != "video":
            raise bad_request("Invalid request: 'media_type' must be 'video'.")
        host = req.headers.get("host", "")
        if not HOST.fullmatch(host):
            host = self.upload_host
        return json_response(201, self.media.register(req.app_id or "", f"http://{host}{UPLOAD_PATH}"))

    def list_media(self, req: Request) -> Response:
        size = page_size(req)
        return json_response(200, self.media.list(req.app_id, bookmark(req), size))

    def get_media(self, req: Request) -> Response:
        return json_response(200, self.media.get(req.params["media_id"], req.app_id))

    def user_account(self, req: Request) -> Response:
        return json_response(200, self.store.account())

    def token(self, req: Request) -> Response:
        authorization = req.headers.get("authorization")
        content_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            self.auth.token(authorization, {})  # client authentication still comes first
            raise ApiError(
                400, 1, "Invalid request: send application/x-www-form-urlencoded.", extra={"error": "invalid_request"}
            )
        try:
            form = dict(parse_qsl(req.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise bad_request("Invalid request: the form is not UTF-8.") from None
        return json_response(200, self.auth.token(authorization, form))

    def _consent_refusal(self, req: Request) -> Response | None:
        """The consent page's error for a request it cannot authorize at all (an unknown app, no
        redirect_uri), or None."""
        client_id, redirect_uri = req.arg("client_id"), req.arg("redirect_uri")
        if not client_id or not self.auth.app_exists(client_id):
            return consent_error(
                f"No app with the id {client_id!r} is registered in this sandbox, so it cannot be "
                "authorized. Use the app id the sandbox printed when it started "
                "(modulex-pinterest sandbox --help names it)."
            )
        if not is_http_url(redirect_uri):
            return consent_error(
                "The redirect_uri is missing or is not an http(s) URL, so there is nowhere to send the answer."
            )
        return None

    def authorize_check(self, req: Request) -> Response:
        """``HEAD`` of the consent page: the status a browser would get (400 for an unknown app), no
        code issued, so a login can find out at once that its request will be refused."""
        refusal = self._consent_refusal(req)
        if refusal is not None:
            return refusal
        return Response(200, b"", {"Content-Type": "text/html; charset=utf-8"})

    def authorize(self, req: Request) -> Response:
        """The consent page, auto-approved: redirect back with a fresh code and the state."""
        refusal = self._consent_refusal(req)
        if refusal is not None:
            return refusal
        client_id, redirect_uri = str(req.arg("client_id")), str(req.arg("redirect_uri"))
        answer: dict[str, str] = {}
        scopes = parse_scopes(req.arg("scope") or "")
        if req.arg("response_type") != "code":
            answer["error"] = "unsupported_response_type"
        elif not scopes or not set(scopes) <= KNOWN_SCOPES:
            answer["error"] = "invalid_scope"
        else:
            answer["code"] = self.auth.issue_authorization_code(client_id, redirect_uri, scopes)
        state = req.arg("state")
        if state is not None:
            answer["state"] = state
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return Response(302, b"", {"Location": redirect_uri + separator + urlencode(answer)})
