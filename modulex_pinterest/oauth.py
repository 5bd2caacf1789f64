"""OAuth 2.0 credentials: refresh that loses nothing.

Pinterest access tokens last 30 days; refresh tokens last 60 and rotate when
the app asks for ``continuous_refresh``. Presenting a refresh token that was
already rotated may revoke the whole grant (RFC 9700), so:

- every new set of tokens is handed to the host (``modulex_credentials_updated``)
  before the new access token is used;
- refreshes are single-flight: one lock, and credentials are re-read under it,
  so many threads meeting an expired token cause one refresh;
- the plugin remembers which refresh token was replaced by which, so a host
  that hands back stale credentials gets the current ones, not a second refresh;
- a refresh whose outcome is unknown (read timeout) is not resent, and a
  refresh token Pinterest rejected is not presented again.
"""

import threading
import time
from collections import OrderedDict

from .client import ApiError, PinterestClient
from .errors import describe
from .redaction import secrets_of

EXPIRY_MARGIN = 300  # seconds before expires_at when a token counts as expired
MAX_REMEMBERED = 1024


class RefreshError(Exception):
    """A refresh that failed; the message is for people and holds no secret.

    ``rejected`` means Pinterest refused the refresh token itself: presenting
    it again cannot help, only a new authorization can.
    """

    def __init__(self, message, rejected=False):
        super().__init__(message)
        self.rejected = rejected


def expiring(credentials, now):
    if not credentials.get("access_token"):
        return True
    expires_at = credentials.get("expires_at")
    return isinstance(expires_at, (int, float)) and not isinstance(expires_at, bool) and expires_at - EXPIRY_MARGIN <= now


class TokenRefresher:
    """Per plugin instance: the refresh lock and what each refresh replaced."""

    def __init__(self, clock=time.time):
        self._lock = threading.Lock()
        self._replaced = OrderedDict()  # (app_id, old refresh token) -> newer credentials
        self._rejected = OrderedDict()  # (app_id, refresh token) -> error text
        self._clock = clock

    def __repr__(self):
        return f"<TokenRefresher remembering {len(self._replaced)} rotations>"

    def current(self, credentials):
        """The newest credentials known for this grant (the host's may be stale)."""
        seen = 0
        while seen < MAX_REMEMBERED:
            newer = self._replaced.get((credentials.get("app_id"), credentials.get("refresh_token")))
            if newer is None:
                return credentials
            credentials = newer
            seen += 1
        return credentials

    def fresh(self, credentials, session, settings, publish, *, rejected_token=None, force=False):
        """Credentials with a usable access token, refreshing when needed.

        ``rejected_token`` is an access token Pinterest just answered 401 to:
        refresh unless another thread already replaced it. ``force`` refreshes
        regardless. ``publish`` hands new credentials to the host.
        """
        latest = self.current(credentials)
        if not self._needs_refresh(latest, rejected_token, force):
            return latest
        with self._lock:
            latest = self.current(credentials)  # re-read: another thread may have refreshed meanwhile
            if not self._needs_refresh(latest, rejected_token, force):
                return latest
            key = (latest.get("app_id"), latest.get("refresh_token"))
            if key in self._rejected:
                raise RefreshError(self._rejected[key], rejected=True)
            try:
                updated = self._refresh(latest, session, settings)
            except RefreshError as exc:
                if exc.rejected:
                    self._remember(self._rejected, key, str(exc))
                raise
            self._remember(self._replaced, key, updated)
            publish(dict(updated))
            return updated

    def _needs_refresh(self, latest, rejected_token, force):
        if force:
            return True
        if rejected_token is not None:
            return latest.get("access_token") == rejected_token
        return expiring(latest, self._clock())

    @staticmethod
    def _remember(table, key, value):
        table[key] = value
        while len(table) > MAX_REMEMBERED:
            table.popitem(last=False)

    def _refresh(self, credentials, session, settings):
        from requests.auth import HTTPBasicAuth

        app_id, app_secret = credentials.get("app_id"), credentials.get("app_secret")
        refresh_token = credentials.get("refresh_token")
        if not (app_id and app_secret and refresh_token):
            raise RefreshError("Missing credentials: OAuth 2.0 needs app_id, app_secret and refresh_token to get an "
                               "access token; authorize the app first (modulex-pinterest auth login)")
        client = PinterestClient(session, settings, HTTPBasicAuth(str(app_id), str(app_secret)),
                                 secrets=secrets_of(credentials))
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "continuous_refresh": "true"}
        started = self._clock()
        try:
            answer = client.post_form(settings.token_url, form)
        except ApiError as error:
            raise _refresh_failure(error, credentials) from None
        return updated_credentials(credentials, answer, started)


def updated_credentials(credentials, answer, now):
    """Credentials after a token answer: a missing refresh token keeps the old
    one, and ``expires_in`` of 0 or absent leaves the expiry unknown (so a
    zero lifetime cannot cause a refresh loop)."""
    access_token = answer.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise RefreshError("Authentication failed: Pinterest's token answer has no access_token")
    updated = dict(credentials, mode="oauth2", access_token=access_token)
    if isinstance(answer.get("refresh_token"), str) and answer["refresh_token"]:
        updated["refresh_token"] = answer["refresh_token"]
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
        updated["expires_at"] = int(now + expires_in)
    else:
        updated.pop("expires_at", None)
    return updated


def _refresh_failure(error, credentials):
    text = (error.message or "").lower()
    if error.oauth_error == "invalid_grant" or "invalid_grant" in text:
        return RefreshError(
            "Authentication failed: Pinterest rejected the OAuth refresh token (invalid_grant: it expired, was "
            "revoked or was already used). Re-authorize the app (modulex-pinterest auth login) to get new tokens",
            rejected=True)
    if error.status == 401 or error.oauth_error == "invalid_client":
        return RefreshError("Authentication failed: Pinterest rejected the app id and app secret while refreshing "
                            f"the access token (HTTP {error.status}); check them in the developer portal")
    detail = describe(error, {"action": "oauth_refresh"}, secrets_of(credentials))
    if error.sent is not False and error.kind in ("timeout", "connection"):
        detail += ("; the refresh was not resent, since Pinterest may already have rotated the refresh token. "
                   "If the next attempt is rejected, re-authorize the app")
    return RefreshError("Authentication failed: could not refresh the OAuth access token: " + detail)
