"""Credentials in, a ready client out: modes, token checks, the OAuth refresh.

Pinterest access tokens last 30 days; refresh tokens last 60 and rotate when
the app asks for ``continuous_refresh``. Presenting a refresh token that was
already rotated may revoke the whole grant (RFC 9700), and many workers on
many machines share one grant, so a refresh follows one path everywhere:

1. no refresh without somewhere to keep its result: the host's credential
   store is required, checked before anything is sent;
2. take the store's lease for the grant, re-read the stored credentials under
   it, and use them if another worker already refreshed;
3. otherwise refresh, and store the new tokens with a compare-and-swap on the
   refresh token that was presented, before the new access token is used;
4. a lease not granted in time is re-read once more and, if still stale,
   reported as retryable: never a refresh without the lease;
5. a refresh whose outcome is unknown (read timeout) is not resent.

Nothing here outlives one call, so no OAuth state is shared between hosts or
callers in a process: what a caller gets depends only on what it passes and on
the store its host hands over.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.auth import HTTPBasicAuth

from ..contract import Credentials, CredentialStore, PluginHost
from .errors import ApiError, CredentialError, RefreshError
from .messages import MAX_SERVER_MESSAGE, MAX_SHOWN_NAME, api_error_message, clip_middle
from .redaction import secrets_of
from .run import Run
from .spec import manifest
from .transport.client import JsonObject, PinterestClient
from .transport.retry import Pacing

EXPIRY_MARGIN = 300  # seconds before expires_at when a token counts as expired
MAX_TOKEN_LENGTH = 4096
DIGEST_LENGTH = 24  # hex digits of a grant's non-secret name: 96 bits, no collisions in practice
LEASE_MARGIN = 5.0  # the lease outlasts the token call's connect + read timeouts by this much
UNUSABLE_TOKEN = (
    "Authentication failed: Pinterest's token answer held an access token that cannot be sent "
    "(spaces, control or non-ASCII characters), so it was not used or stored"
)


def credential_mode_of(credentials: Any) -> str:
    if not isinstance(credentials, dict) or not credentials:
        raise CredentialError(
            "Missing credentials: provide an access token (mode 'access_token') "
            "or OAuth 2.0 credentials (mode 'oauth2')"
        )
    mode = credentials.get("mode") or ("oauth2" if credentials.get("app_id") else "access_token")
    if mode not in manifest.spec().credential_modes:
        raise CredentialError(f"Unknown credential mode {str(mode)[:MAX_SHOWN_NAME]!r}: use 'access_token' or 'oauth2'")
    return str(mode)


def usable_token(token: Any, mode: str) -> str:
    """The bearer token to send.

    A token with surrounding whitespace (a pasted newline) is trimmed; one with
    whitespace or control characters inside is refused, since requests would
    echo it in an exception.
    """
    entry = manifest.spec().credential_modes.get(mode)
    name = entry.name if entry else mode
    if not isinstance(token, str) or not token.strip():
        raise CredentialError(f"Missing credentials: 'access_token' is required for the {name} mode")
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or not (token.isascii() and token.isprintable()) or " " in token:
        raise CredentialError(
            "Invalid credentials: the access token contains spaces, control or non-ASCII characters; copy it again"
        )
    return token


def expiring(credentials: Credentials, now: float) -> bool:
    if not credentials.get("access_token"):
        return True
    expires_at = credentials.get("expires_at")
    return (
        isinstance(expires_at, (int, float)) and not isinstance(expires_at, bool) and expires_at - EXPIRY_MARGIN <= now
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:DIGEST_LENGTH]


class Connection:
    """One call's credentials, settings and host, turned into a client.

    :meth:`client` has a usable access token: OAuth 2.0 credentials are refreshed
    first when the token is missing or about to expire, and the client asks for a
    refresh when Pinterest answers 401 for an invalid or expired token (a 401 for
    a missing scope is not something a refresh can fix), then resends that one
    request.
    """

    def __init__(
        self,
        session: requests.Session,
        credentials: Any,
        run: Run,
        host: PluginHost | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mode = credential_mode_of(credentials)
        self.credentials: Credentials = credentials
        self.run = run
        self.settings = run.settings
        self.session = session
        self.store: CredentialStore | None = getattr(host, "credential_store", None)
        self.budget = getattr(host, "rate_budget", None)
        self.clock = clock

    def __repr__(self) -> str:
        return f"<Connection mode={self.mode!r} [credentials redacted]>"

    def secrets(self) -> tuple[str, ...]:
        return secrets_of(self.credentials)

    def _grant(self) -> str:
        """Who shares a rate budget: one grant, named without a secret."""
        if self.mode == "oauth2" and self.store is not None:
            return _digest("oauth2", str(self.credentials.get("app_id")), self.store.grant_id)
        return _digest(self.mode, str(self.credentials.get("access_token")))

    def client(self) -> PinterestClient:
        """A client for this call's requests, with a usable access token."""
        if self.mode != "oauth2":
            return self._client_with(self.credentials)
        return self._client_with(self.fresh(), reauthorize=self._after_rejection)

    def _after_rejection(self, rejected_token: str) -> str:
        """A fresh access token after Pinterest rejected ``rejected_token`` (the client's 401)."""
        return usable_token(self.fresh(rejected_token=rejected_token).get("access_token"), self.mode)

    def _client_with(
        self, credentials: Credentials, reauthorize: Callable[[str], str] | None = None
    ) -> PinterestClient:
        token = usable_token(credentials.get("access_token"), self.mode)
        pacing = None
        if self.budget is not None:
            pacing = Pacing(self.budget, self._grant(), self.settings.rate_limit)
        return PinterestClient(
            self.session, self.run, token, secrets_of(credentials), pacing=pacing, reauthorize=reauthorize
        )

    # ----- the refresh ----------------------------------------------------

    def _needs_refresh(self, credentials: Credentials, rejected_token: str | None, force: bool) -> bool:
        if force:
            return True
        if rejected_token is not None:
            return credentials.get("access_token") == rejected_token
        return expiring(credentials, self.clock())

    def fresh(self, *, rejected_token: str | None = None, force: bool = False) -> Credentials:
        """Credentials with a usable access token, refreshing when needed (see the module's rules)."""
        if not self._needs_refresh(self.credentials, rejected_token, force):
            return self.credentials
        self._check_refreshable(self.credentials)
        store = self.store
        if store is None:
            raise RefreshError(
                "Cannot refresh the OAuth access token: the host has no credential store for this connection, so "
                "the rotated refresh token would be lost. Run it through a host that stores credentials (for the "
                "CLI: --credentials FILE or redis://...), or pass a current access_token"
            )
        connect, read = self.settings.timeout
        ttl = connect + read + LEASE_MARGIN
        wait = max(0.0, min(ttl, self.run.seconds_left()))
        try:
            with store.lease(ttl, wait) as held:
                current = self._stored(store)
                self._check_lineage(current)
                if not self._needs_refresh(current, rejected_token, force and current == self.credentials):
                    self.credentials = current  # another worker refreshed meanwhile
                    return current
                if not held:
                    raise RefreshError(
                        "Authentication failed: another worker has been refreshing this connection's OAuth token "
                        f"for over {wait:.0f} s; retry in a minute",
                        retryable=True,
                    )
                updated = self._refresh(current)
                if not store.swap(str(current["refresh_token"]), updated):
                    raise RefreshError(
                        "Authentication failed: the stored credentials changed while this refresh ran (another "
                        "worker wrote them without the lease); the new tokens were not used. Retry",
                        retryable=True,
                    )
                if "access_token" not in updated:
                    self.credentials = updated
                    raise RefreshError(f"{UNUSABLE_TOKEN}; the new refresh token was stored: retry", retryable=True)
        except (RefreshError, CredentialError):
            raise
        except Exception as exc:  # noqa: BLE001 - any host's store may fail its own way: say so, without internals
            raise RefreshError(
                f"Cannot refresh the OAuth access token: the host's credential store failed "
                f"({type(exc).__name__}: {clip_middle(str(exc), MAX_SERVER_MESSAGE)})",
                retryable=True,
            ) from None
        self.credentials = updated
        return updated

    def _stored(self, store: CredentialStore) -> Credentials:
        """The stored credentials, if they are this caller's grant.

        The store is the host's word for which connection this call uses; a
        caller must still hold the same app id and secret as what is stored.
        """
        stored = store.read()
        if not stored:
            raise RefreshError(
                "Cannot refresh the OAuth access token: the host's credential store holds no "
                "credentials for this connection; store them first (modulex-pinterest auth import)"
            )
        same_app = str(stored.get("app_id")) == str(self.credentials.get("app_id")) and hmac.compare_digest(
            str(stored.get("app_secret") or "").encode(), str(self.credentials.get("app_secret") or "").encode()
        )
        if not same_app:
            raise CredentialError(
                "Invalid credentials: the app id or app secret passed do not match the ones stored for this connection"
            )
        self._check_refreshable(stored)
        return stored

    def _check_lineage(self, stored: Credentials) -> None:
        """Answer only a caller whose refresh token is the stored one or the one
        it just replaced (a worker that read the store as another refreshed);
        an older one is what Pinterest calls a reused token."""
        presented = str(self.credentials.get("refresh_token"))
        if presented != stored.get("refresh_token") and stored.get("rotated_from") != rotation_mark(presented):
            raise RefreshError(
                "Authentication failed: invalid_grant: the refresh token passed was already rotated, and the "
                "connection's stored credentials hold a newer one; nothing was sent. Pass the stored credentials"
            )

    @staticmethod
    def _check_refreshable(credentials: Credentials) -> None:
        if not (credentials.get("app_id") and credentials.get("app_secret") and credentials.get("refresh_token")):
            raise RefreshError(
                "Missing credentials: OAuth 2.0 needs app_id, app_secret and refresh_token to get an "
                "access token; authorize the app first (modulex-pinterest auth login)"
            )

    def _refresh(self, credentials: Credentials) -> Credentials:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": str(credentials["refresh_token"]),
            "continuous_refresh": "true",
        }
        started = self.clock()
        try:
            answer = self._token_request(credentials, form)
        except ApiError as error:
            raise _refresh_failure(error, credentials) from None
        return updated_credentials(credentials, answer, started)

    def exchange_code(self, code: str, redirect_uri: str) -> Credentials:
        """The credentials an authorization code grants (RFC 6749 section 4.1.3), by the same
        token endpoint, timeouts and rules as a refresh. Nothing is stored here: the host stores them."""
        if self.mode != "oauth2" or not (self.credentials.get("app_id") and self.credentials.get("app_secret")):
            raise CredentialError(
                "Missing credentials: exchanging an authorization code needs OAuth 2.0 "
                "credentials with app_id and app_secret"
            )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "continuous_refresh": "true",
        }
        started = self.clock()
        try:
            answer = self._token_request(self.credentials, form)
        except ApiError as error:
            detail = api_error_message(error, {"action": "oauth_code_exchange"}, self.secrets() + (code,))
            raise RefreshError("Authorization failed: could not exchange the authorization code: " + detail) from None
        app: Credentials = {
            "mode": "oauth2",
            "app_id": self.credentials["app_id"],
            "app_secret": self.credentials["app_secret"],
        }
        granted = updated_credentials(app, answer, started)
        if "access_token" not in granted:
            raise RefreshError(UNUSABLE_TOKEN + "; nothing was stored: authorize again")
        return granted

    def _token_request(self, credentials: Credentials, form: dict[str, str]) -> JsonObject:
        """A POST to the token endpoint with HTTP Basic (app id and secret), never resent once it may have arrived."""
        if self.settings.token_url is None:
            raise RefreshError("Cannot reach the OAuth token endpoint: no token URL is configured")
        auth = HTTPBasicAuth(str(credentials["app_id"]), str(credentials["app_secret"]))
        client = PinterestClient(self.session, self.run, auth, secrets_of(credentials))
        return client.post_form(self.settings.token_url, form)


def rotation_mark(refresh_token: str) -> str:
    """A fingerprint of a replaced refresh token, kept beside its successor
    (``rotated_from``) so a worker that read the store just before a refresh
    is told apart from a caller holding a long-dead token."""
    return "sha256:" + _digest("rotated", refresh_token)


def updated_credentials(credentials: Credentials, answer: dict[str, Any], now: float) -> Credentials:
    """Credentials after a token answer: a missing refresh token keeps the old
    one, and ``expires_in`` of 0 or absent leaves the expiry unknown (so a
    zero lifetime cannot cause a refresh loop). An access token that could not
    be sent (spaces, control or non-ASCII characters) is left out, so it is
    never stored, while a rotated refresh token is kept: losing that would
    lose the grant. The caller sees no ``access_token`` and fails the refresh."""
    access_token = answer.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise RefreshError("Authentication failed: Pinterest's token answer has no access_token")
    updated: Credentials = {**credentials, "mode": "oauth2", "access_token": access_token}
    try:
        usable_token(access_token, "oauth2")
    except CredentialError:
        del updated["access_token"]
    new_refresh_token = answer.get("refresh_token")
    old_refresh_token = credentials.get("refresh_token")
    if isinstance(new_refresh_token, str) and new_refresh_token and new_refresh_token != old_refresh_token:
        updated["refresh_token"] = new_refresh_token
        if old_refresh_token:
            updated["rotated_from"] = rotation_mark(str(old_refresh_token))
    expires_in = answer.get("expires_in")
    usable = "access_token" in updated
    if usable and isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
        updated["expires_at"] = int(now + expires_in)
    else:
        updated.pop("expires_at", None)
    return updated


def _refresh_failure(error: ApiError, credentials: Credentials) -> RefreshError:
    text = (error.message or "").lower()
    if error.oauth_error == "invalid_grant" or "invalid_grant" in text:
        return RefreshError(
            "Authentication failed: Pinterest rejected the OAuth refresh token (invalid_grant: it expired, was "
            "revoked or was already used). Re-authorize the app (modulex-pinterest auth login) to get new tokens"
        )
    if error.status == 401 or error.oauth_error == "invalid_client":
        return RefreshError(
            "Authentication failed: Pinterest rejected the app id and app secret while refreshing "
            f"the access token (HTTP {error.status}); check them in the developer portal"
        )
    detail = api_error_message(error, {"action": "oauth_refresh"}, secrets_of(credentials))
    if error.sent is not False and error.in_transit:
        detail += (
            "; the refresh was not resent, since Pinterest may already have rotated the refresh token. "
            "If the next attempt is rejected, re-authorize the app"
        )
    # Retryable only when the token endpoint surely did not rotate the refresh token.
    retryable = error.sent is False or error.status == 429
    return RefreshError(
        "Authentication failed: could not refresh the OAuth access token: " + detail, retryable=retryable
    )
