"""Access tokens, OAuth apps, authorization codes and refresh tokens.

Models Pinterest's OAuth 2.0 authorization-code flow as the spec's
``oauth/token`` operation describes it: the app authenticates with HTTP Basic
``app_id:app_secret``; a code is exchanged once, for the redirect URI it was
issued with; ``grant_type=refresh_token`` with ``continuous_refresh=true``
rotates the refresh token (a new one each time, the presented one dead from
then on); without it the same refresh token comes back with its remaining,
unextended lifetime (the legacy hard-limit token). Token-endpoint errors carry
Pinterest's ``{"code", "message"}`` plus RFC 6749's ``error`` name.

Refresh-token reuse detection (RFC 9700 section 4.14.2): each code exchange
starts a *grant family*, and every access and refresh token issued from it, or
by refreshing its tokens, joins that family. A rotated-away refresh token is
remembered; if its client presents it again, one of two parties holds a copy,
so the whole family is revoked (its refresh tokens answer ``invalid_grant``,
its access tokens Pinterest's 401 ``Authentication failed.``) and the request
gets the same ``invalid_grant`` as an unknown token, telling an attacker nothing.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import AUTH_FAILED, CODE_AUTH, CODE_INVALID, CODE_SCOPE, MISSING_SCOPE, ApiError

# The five scopes the plugin's operations need.
DEFAULT_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read")
# Every scope Pinterest's spec declares (securitySchemes.pinterest_oauth2).
KNOWN_SCOPES = frozenset(
    DEFAULT_SCOPES
    + (
        "ads:read",
        "ads:write",
        "billing:read",
        "billing:write",
        "biz_access:read",
        "biz_access:write",
        "boards:read_secret",
        "boards:write_secret",
        "catalogs:read",
        "catalogs:write",
        "msot:write",
        "pins:read_secret",
        "pins:write_secret",
        "user_accounts:write",
    )
)
CODE_TTL = 600  # authorization codes live ten minutes


@dataclass
class Grant:
    app_id: str
    scopes: tuple[str, ...]
    expires_at: float | None  # None: never expires
    family: int | None = None  # the code exchange it descends from; None: added by a test


@dataclass
class Code:
    app_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float


def parse_scopes(text: str) -> tuple[str, ...]:
    """Pinterest writes scope lists with commas; accept spaces too."""
    return tuple(s for s in text.replace(",", " ").split() if s)


def token_error(status: int, error: str, message: str) -> ApiError:
    return ApiError(status, CODE_AUTH if status == 401 else CODE_INVALID, message, extra={"error": error})


class Auth:
    def __init__(self, access_token_ttl: int, refresh_token_ttl: int) -> None:
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self._lock = threading.Lock()
        self._apps: dict[str, str] = {}
        self._tokens: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._codes: dict[str, Code] = {}
        self._families = itertools.count(1)
        self._rotated: dict[str, Grant] = {}  # rotated-away refresh token -> its grant
        self._revoked: set[int] = set()  # revoked families

    # ----- state helpers --------------------------------------------------

    def register_app(self, app_id: str, app_secret: str) -> None:
        with self._lock:
            self._apps[app_id] = app_secret

    def add_access_token(
        self, token: str, scopes: Iterable[str] = DEFAULT_SCOPES, expires_in: float | None = None, app_id: str = ""
    ) -> None:
        expires_at = None if expires_in is None else time.time() + expires_in
        with self._lock:
            self._tokens[token] = Grant(app_id, tuple(scopes), expires_at)

    def expire_access_token(self, token: str) -> None:
        with self._lock:
            self._tokens[token].expires_at = time.time() - 1

    def issue_authorization_code(self, app_id: str, redirect_uri: str, scopes: str | Iterable[str]) -> str:
        if isinstance(scopes, str):
            scopes = parse_scopes(scopes)
        code = secrets.token_hex(16)
        with self._lock:
            if app_id not in self._apps:
                raise KeyError(f"unknown app_id {app_id}")
            self._codes[code] = Code(app_id, redirect_uri, tuple(scopes), time.time() + CODE_TTL)
        return code

    def app_exists(self, app_id: str) -> bool:
        with self._lock:
            return app_id in self._apps

    def grant_revoked(self, token: str) -> bool:
        """Whether ``token`` (access, refresh or rotated-away refresh) belongs to a revoked family."""
        with self._lock:
            grant = self._tokens.get(token) or self._refresh.get(token) or self._rotated.get(token)
            return grant is not None and grant.family in self._revoked

    @property
    def revoked_grants(self) -> int:
        with self._lock:
            return len(self._revoked)

    # ----- bearer auth ----------------------------------------------------

    def check_bearer(self, header: str | None, required: tuple[str, ...]) -> Grant:
        """The token's grant, or the 401 Pinterest sends for a missing, unknown,
        revoked, expired or under-scoped token."""
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        with self._lock:
            grant = self._tokens.get(token) if scheme.lower() == "bearer" and token else None
            if grant is not None and grant.family in self._revoked:
                grant = None  # a revoked token is as unknown as one never issued
        if grant is None:
            raise ApiError(401, CODE_AUTH, AUTH_FAILED)
        if grant.expires_at is not None and grant.expires_at <= time.time():
            raise ApiError(401, CODE_AUTH, "Authentication failed. The access token has expired.")
        missing = [s for s in required if s not in grant.scopes]
        if missing:
            raise ApiError(401, CODE_SCOPE, f"{MISSING_SCOPE} Missing scopes: {', '.join(missing)}.")
        return grant

    # ----- token endpoint -------------------------------------------------

    def _client(self, header: str | None) -> str:
        scheme, _, value = (header or "").strip().partition(" ")
        app_id = sep = secret = ""
        try:
            app_id, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        with self._lock:
            known = self._apps.get(app_id) if sep and scheme.lower() == "basic" else None
        if known is None or not secrets.compare_digest(known.encode(), secret.encode()):
            raise token_error(
                401, "invalid_client", "Authentication failed: invalid client credentials (app id and secret)."
            )
        return app_id

    def token(self, authorization: str | None, form: dict[str, str]) -> dict:
        """POST /oauth/token: a token response dict, or an ApiError."""
        app_id = self._client(authorization)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(app_id, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(app_id, form)
        raise token_error(
            400, "unsupported_grant_type", "Unsupported grant_type: use authorization_code or refresh_token."
        )

    def _exchange_code(self, app_id: str, form: dict[str, str]) -> dict:
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise token_error(400, "invalid_request", "code and redirect_uri are required.")
        with self._lock:
            issued = self._codes.pop(code, None)  # single use, even when the rest is wrong
            if (
                issued is None
                or issued.app_id != app_id
                or issued.expires_at <= time.time()
                or issued.redirect_uri != redirect_uri
            ):
                raise token_error(
                    400,
                    "invalid_grant",
                    "invalid_grant: the authorization code is invalid, expired, "
                    "already used, or was issued for another redirect_uri.",
                )
            now = time.time()
            family = next(self._families)
            access, refresh = "pina_" + secrets.token_urlsafe(32), "pinr_" + secrets.token_urlsafe(32)
            self._tokens[access] = Grant(app_id, issued.scopes, now + self.access_token_ttl, family)
            self._refresh[refresh] = Grant(app_id, issued.scopes, now + self.refresh_token_ttl, family)
        return self._response("authorization_code", access, issued.scopes, refresh, now + self.refresh_token_ttl, now)

    def _refresh_grant(self, app_id: str, form: dict[str, str]) -> dict:
        presented = form.get("refresh_token")
        if not presented:
            raise token_error(400, "invalid_request", "refresh_token is required.")
        rotate = form.get("continuous_refresh", "").lower() == "true"
        invalid = token_error(400, "invalid_grant", "invalid_grant: the refresh token is invalid, expired or revoked.")
        with self._lock:
            now = time.time()
            reused = self._rotated.get(presented)
            if reused is not None and reused.app_id == app_id and reused.family is not None:
                # Only the client it was issued to can replay it; another app's
                # credentials with a stolen token just fail like an unknown one.
                self._revoked.add(reused.family)
                raise invalid
            grant = self._refresh.get(presented)
            # Refresh tokens are always issued with an expiry: expires_at None never happens.
            if (
                grant is None
                or grant.app_id != app_id
                or grant.family in self._revoked
                or grant.expires_at is None
                or grant.expires_at <= now
            ):
                raise invalid
            refresh_expires_at = grant.expires_at
            scopes = grant.scopes
            if form.get("scope"):
                asked = parse_scopes(form["scope"])
                if not set(asked) <= set(grant.scopes):
                    raise token_error(400, "invalid_scope", "invalid_scope: a refresh cannot add scopes to the grant.")
                scopes = asked
            refresh = presented
            if rotate:
                self._rotated[presented] = self._refresh.pop(presented)
                refresh = "pinr_" + secrets.token_urlsafe(32)
                refresh_expires_at = now + self.refresh_token_ttl
                grant = Grant(app_id, grant.scopes, refresh_expires_at, grant.family)
                self._refresh[refresh] = grant
            access = "pina_" + secrets.token_urlsafe(32)
            self._tokens[access] = Grant(app_id, scopes, now + self.access_token_ttl, grant.family)
        return self._response("refresh_token", access, scopes, refresh, refresh_expires_at, now)

    def _response(
        self,
        response_type: str,
        access: str,
        scopes: Iterable[str],
        refresh: str,
        refresh_expires_at: float,
        now: float,
    ) -> dict:
        """OauthAccessTokenResponseCode / ...Refresh: both carry the refresh-token fields."""
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": max(0, int(self.access_token_ttl)),
            "scope": ",".join(scopes),
            "response_type": response_type,
            "refresh_token": refresh,
            "refresh_token_expires_in": max(0, int(refresh_expires_at - now)),
            "refresh_token_expires_at": int(refresh_expires_at),
        }
