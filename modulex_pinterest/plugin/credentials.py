"""Credentials in, a ready client out: modes, token checks, the OAuth refresh.

Pinterest access tokens last 30 days; refresh tokens last 60 and rotate when
the app asks for ``continuous_refresh``. Presenting a refresh token that was
already rotated may revoke the whole grant (RFC 9700), and many workers on
many machines share one grant, so a refresh follows one path everywhere:

1. no refresh without somewhere to keep its result: the host's credential
   store is required, checked before anything is sent;
2. take the store's lease for the grant (renewed by the store while this
   worker lives, so a crashed holder blocks the others for at most
   :data:`LEASE_TTL`; waiting lasts as long as the action's deadline allows),
   re-read the stored credentials under it, and use them if another worker
   already refreshed. Expiry is judged on the store's clock when it has one;
3. a refresh token Pinterest rejected (``invalid_grant``) is noted in the
   store (``rejected``) and never presented again, by any worker, until new
   credentials are stored: every worker fails at once, sending nothing;
4. otherwise note ``refreshing`` in the store, refresh, and store the new
   tokens with a compare-and-swap on the refresh token that was presented,
   before the new access token is used. Tokens Pinterest issued are never
   dropped: a store that fails is tried again within the deadline, then its
   ``rescue`` file keeps them and the action fails, not retryable, saying how
   to put them back;
5. a lease not granted in time is re-read once more and, if still stale,
   reported as retryable: never a refresh without the lease;
6. a refresh whose outcome is unknown (read timeout) is not resent, and its
   ``refreshing`` note tells the next lease holder so.

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
from .messages import MAX_SERVER_MESSAGE, MAX_SHOWN_NAME, api_error_message, host_failure
from .redaction import install_log_filter, secrets_of
from .run import Run
from .spec import manifest
from .transport.client import JsonObject, PinterestClient
from .transport.retry import Pacing

log = install_log_filter(__name__)

EXPIRY_MARGIN = 300  # seconds before expires_at when a token counts as expired
MAX_TOKEN_LENGTH = 4096
DIGEST_LENGTH = 24  # hex digits of a grant's non-secret name: 96 bits, no collisions in practice
NOTES = ("refreshing", "rejected")
LEASE_TTL = 10.0  # seconds a crashed holder's refresh lease blocks the others (a living holder's store renews it)
KEEP_TRYING = 30.0  # seconds a refresh keeps trying to store the tokens Pinterest issued before rescuing them
KEEP_RESERVE = 2.0  # seconds of the deadline left for writing the rescue file
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

    def _needs_refresh(
        self, credentials: Credentials, rejected_token: str | None, force: bool, now: float | None = None
    ) -> bool:
        if force:
            return True
        if rejected_token is not None:
            return credentials.get("access_token") == rejected_token
        return expiring(credentials, self.clock() if now is None else now)

    def fresh(self, *, rejected_token: str | None = None, force: bool = False) -> Credentials:
        """Credentials with a usable access token, refreshing when needed (see the module's rules)."""
        if not self._needs_refresh(self.credentials, rejected_token, force):
            return self.credentials
        refuse_dead_grant(self.credentials)
        self._check_refreshable(self.credentials)
        store = self.store
        if store is None:
            raise RefreshError(
                "Cannot refresh the OAuth access token: the host has no credential store for this connection, so "
                "the rotated refresh token would be lost. Run it through a host that stores credentials (for the "
                "CLI: --credentials FILE or redis://...), or pass a current access_token"
            )
        try:
            return self._refresh_under_lease(store, rejected_token, force)
        except (RefreshError, CredentialError):
            raise
        except Exception as exc:  # noqa: BLE001 - any host's store may fail its own way: say so, without internals
            # Only before the token request: after it, _keep handles every store failure.
            raise RefreshError(
                f"Cannot refresh the OAuth access token: the host's credential store failed "
                f"({host_failure(exc)}); nothing was sent",
                retryable=True,
            ) from None

    def _store_now(self, store: CredentialStore) -> float:
        """The store's clock when it has one: a worker whose own clock runs ahead
        must not judge a token stored moments ago as expired."""
        now = getattr(store, "now", None)
        return float(now()) if callable(now) else self.clock()

    def _refresh_under_lease(self, store: CredentialStore, rejected_token: str | None, force: bool) -> Credentials:
        if not force and rejected_token is None and not expiring(self.credentials, self._store_now(store)):
            return self.credentials  # only this worker's clock said so
        wait = max(0.0, self.run.seconds_left())
        with store.lease(LEASE_TTL, wait) as held:
            current = self._stored(store)
            refuse_dead_grant(current)
            now = self._store_now(store)
            forced = force and current.get("access_token") == self.credentials.get("access_token")
            if not (forced or self._needs_refresh(current, rejected_token, False, now)):
                self.credentials = current  # another worker refreshed meanwhile
                return current
            if not held:
                raise RefreshError(
                    "Authentication failed: another worker held this connection's refresh lease for the "
                    f"{wait:.3g} s this action could wait (a living holder renews it; a crashed one's lapses "
                    f"within {LEASE_TTL:.0f} s); nothing was sent. Retry, or give the action a longer deadline",
                    retryable=True,
                )
            presented = str(current["refresh_token"])
            lapsed = _in_flight(current)
            clean = without_notes(current)
            # Say a refresh of this token is on its way, so that a worker taking the lease
            # after this one died knows it may have been rotated already.
            marked: Credentials = {**clean, "refreshing": {"token": rotation_mark(presented), "since": round(now, 3)}}
            if not store.swap(presented, marked):
                raise RefreshError(
                    "Authentication failed: the stored credentials changed under the lease (another worker "
                    "wrote them without it); nothing was sent. Retry",
                    retryable=True,
                )
            try:
                answer = self._token_request(clean, self._refresh_form(presented))
            except ApiError as error:
                failure = _refresh_failure(error, clean, lapsed)
                self._after_failed_refresh(store, presented, clean, failure, now)
                raise failure from None
            updated = updated_credentials(clean, answer, now)
            self._keep(store, presented, updated)
            if "access_token" not in updated:
                self.credentials = updated
                raise RefreshError(f"{UNUSABLE_TOKEN}; the new refresh token was stored: retry", retryable=True)
        self.credentials = updated
        return updated

    @staticmethod
    def _after_failed_refresh(
        store: CredentialStore, presented: str, clean: Credentials, failure: RefreshError, now: float
    ) -> None:
        """Leave the store telling the next worker what happened: a rejected token
        (so nobody presents it again), or no note when nothing was rotated.
        Best effort: the error the caller gets already says what to do."""
        if failure.dead_grant:
            note: Credentials = {
                **clean,
                "rejected": {"token": rotation_mark(presented), "at": round(now, 3), "why": failure.dead_grant},
            }
        elif failure.retryable:
            note = clean  # the token endpoint surely did not rotate it
        else:
            return  # outcome unknown: the "refreshing" note stays, for whoever comes next
        try:
            store.swap(presented, note)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not note the failed refresh in the credential store (%s)", type(exc).__name__)

    def _keep(self, store: CredentialStore, presented: str, updated: Credentials) -> None:
        """Store the tokens the token endpoint just issued, whatever it takes.

        The refresh token presented is dead now, so these are the grant's only
        working tokens: a store that fails is tried again within the action's
        deadline (at most :data:`KEEP_TRYING` seconds), and if it stays down
        they go to the store's rescue file and the action fails, not
        retryable, with the command that puts them back.
        """
        started = self.clock()
        pause = 0.25
        while True:
            try:
                if store.swap(presented, updated) or stored_already(store, updated):
                    return
                why = "the stored credentials changed under the lease (another worker or a login wrote them)"
                break
            except Exception as exc:  # noqa: BLE001
                why = f"the host's credential store failed ({host_failure(exc)})"
            spent = self.clock() - started
            if spent + pause > KEEP_TRYING or pause > self.run.seconds_left() - KEEP_RESERVE:
                break
            self.run.report({"event": "wait", "seconds": pause, "reason": "the credential store, to keep new tokens"})
            self.run.sleep(pause)
            pause = min(2 * pause, 4.0)
        raise RefreshError(rescued(store, updated, why))

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

    @staticmethod
    def _check_refreshable(credentials: Credentials) -> None:
        if not (credentials.get("app_id") and credentials.get("app_secret") and credentials.get("refresh_token")):
            raise RefreshError(
                "Missing credentials: OAuth 2.0 needs app_id, app_secret and refresh_token to get an "
                "access token; authorize the app first (modulex-pinterest auth login)"
            )

    @staticmethod
    def _refresh_form(refresh_token: str) -> dict[str, str]:
        return {"grant_type": "refresh_token", "refresh_token": refresh_token, "continuous_refresh": "true"}

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


def without_notes(credentials: Credentials) -> Credentials:
    """The credentials without the notes a refresh leaves for other workers (``refreshing``, ``rejected``)."""
    return {key: value for key, value in credentials.items() if key not in NOTES}  # type: ignore[return-value]


def refuse_dead_grant(credentials: Credentials) -> None:
    """Fail at once, sending nothing, when Pinterest already rejected the stored refresh token."""
    rejected = credentials.get("rejected")
    refresh_token = credentials.get("refresh_token")
    if not (isinstance(rejected, dict) and refresh_token and rejected.get("token") == rotation_mark(refresh_token)):
        return
    when = rejected.get("at")
    at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when)) if isinstance(when, (int, float)) else "earlier"
    why = str(rejected.get("why") or "invalid_grant")[:MAX_SERVER_MESSAGE]
    raise RefreshError(
        f"Authentication failed: Pinterest rejected this connection's refresh token at {at} ({why}); it is not "
        "sent again. Re-authorize the app and store the new grant where the workers read it "
        "(modulex-pinterest auth login --credentials STORE, or auth import FILE --credentials STORE)"
    )


def _in_flight(credentials: Credentials) -> bool:
    """Whether a refresh of the stored refresh token was sent and never finished
    (its worker died or lost the lease): Pinterest may have rotated it already."""
    note = credentials.get("refreshing")
    refresh_token = credentials.get("refresh_token")
    return isinstance(note, dict) and bool(refresh_token) and note.get("token") == rotation_mark(str(refresh_token))


def store_name(store: CredentialStore) -> str:
    """How the CLI's ``--credentials`` names ``store``, when the store says (never a password)."""
    location = getattr(store, "location", None)
    return str(location) if location else "STORE"


def stored_already(store: CredentialStore, updated: Credentials) -> bool:
    """Whether an earlier swap whose answer was lost (a timeout, then the Redis
    client's own resend) did store ``updated``: the swap then fails because it worked."""
    stored = store.read() or {}
    return all(stored.get(name) == updated.get(name) for name in ("refresh_token", "access_token"))


def rescued(store: CredentialStore, updated: Credentials, why: str) -> str:
    """Write ``updated`` to the store's rescue file; the message saying where and what next."""
    head = f"Authentication failed: Pinterest issued new OAuth tokens but they could not be stored: {why}. "
    keep = getattr(store, "rescue", None)
    if callable(keep):
        try:
            path = str(keep(updated))
        except Exception as exc:  # noqa: BLE001
            log.warning("could not write the rescue file (%s)", type(exc).__name__)
        else:
            return head + (
                f"They were saved to {path} (readable only by you). Put them back before anything else uses "
                f"this connection: modulex-pinterest auth import {path} --credentials {store_name(store)} "
                "(the stored refresh token was rotated away and would be refused)"
            )
    return head + (
        "The stored refresh token was rotated away and the new one is lost: re-authorize the app "
        "(modulex-pinterest auth login)"
    )


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
    updated: Credentials = {**without_notes(credentials), "mode": "oauth2", "access_token": access_token}
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


def _refresh_failure(error: ApiError, credentials: Credentials, lapsed: bool = False) -> RefreshError:
    text = (error.message or "").lower()
    if error.oauth_error == "invalid_grant" or "invalid_grant" in text:
        cause = (
            "the refresh lease lapsed without a result before this refresh: the worker holding it may have died "
            "after Pinterest rotated the token. "
            if lapsed
            else ""
        )
        failure = RefreshError(
            "Authentication failed: Pinterest rejected the OAuth refresh token (invalid_grant: it expired, was "
            f"revoked or was already used). {cause}Re-authorize the app (modulex-pinterest auth login "
            "--credentials STORE) to get new tokens; no worker will present this one again"
        )
        failure.dead_grant = "invalid_grant" + (" after a lapsed lease" if lapsed else "")
        return failure
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
