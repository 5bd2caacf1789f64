"""``PinterestHook``: an Airflow connection turned into what the reference host needs.

A ``pinterest`` connection is one of two kinds:

- **access token**: ``password`` is the token; ``host`` the API base URL
  (default: the plugin's, Pinterest's own; the sandbox's for tests).
- **OAuth 2.0**: the extra names ``credential_store`` (a file path or
  ``redis://HOST:PORT/DB?key=KEY``) and, to seed an empty store once,
  ``app_id``, ``app_secret``, ``refresh_token`` (and optionally
  ``access_token``). Airflow 3 tasks cannot update a connection, so rotated
  tokens live in the store: once it holds a grant, the store wins (its refresh
  token is the current one; the connection's is stale after the first
  rotation). OAuth 2.0 fields without a store are refused.

The settings plugin.yaml offers to Airflow (``deadline``, ``timeout``,
``max_retries``, ...: :func:`~modulex_pinterest.airflow.offered_settings`) may
be given in the extra too; the plugin applies its defaults to the others (and
to ``base_url`` when the connection names no host). One :class:`Host` per process
is shared by every hook, so a task keeps one HTTP session; its rate budget is the
machine's, shared with every other task, CLI run and MCP server on this machine
(with a Redis store, it lives in that Redis, shared across machines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from airflow.sdk import BaseHook

from .. import PLUGIN
from ..contract import Credentials, CredentialStore, FailureReport, Progress
from ..host import CredentialsFile
from ..host.progress import progress_printer
from ..host.shared import shared_host, shared_store
from . import CONN_TYPE, DEFAULT_CONN_ID, offered_settings, plugin_manifest

if TYPE_CHECKING:
    from ..host.redis_store import RedisStore

    _Store = CredentialsFile | RedisStore  # what open_store gives: a CredentialStore that can also save

SEED_FIELDS = ("app_id", "app_secret", "refresh_token")  # what seeding an empty store needs
LEASE_SECONDS = 30.0  # the lease held while an empty store is seeded, and how long to wait for it


class PinterestConnectionError(ValueError):
    """A connection that cannot be used as it is; the message names the field to fix, never a secret."""


@dataclass(frozen=True)
class PinterestConnection:
    """What one call needs: ``credentials`` (access-token mode) or ``store`` (OAuth 2.0), and settings."""

    settings: dict[str, Any]
    credentials: Credentials | None = field(default=None, repr=False)
    store: CredentialStore | None = None


def setting_keys() -> tuple[str, ...]:
    """The connection extra's setting keys: the settings plugin.yaml offers to Airflow."""
    return tuple(entry["name"] for entry in offered_settings())


def _field(extra: dict[str, Any], name: str) -> Any:
    """An extra field, under its name or the ``extra__pinterest__`` name older forms saved it as."""
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__{CONN_TYPE}__{name}")
    if isinstance(value, str):
        value = value.strip()
    return value if value not in (None, "") else None


def _expires_at(conn_id: str, value: Any) -> int | None:
    """The extra's ``expires_at`` as Unix seconds: an integer, digits, or an ISO 8601 time with a zone."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PinterestConnectionError(
            f"connection {conn_id!r}: 'expires_at' in its extra must be Unix seconds or an ISO 8601 time "
            "with a zone, such as 2026-12-31T09:00:00Z"
        )
    return int(moment.timestamp())


def _seed(store: _Store, conn_id: str, oauth: dict[str, Any]) -> None:
    """Put the connection's tokens into an empty store, once; a store holding a grant is left alone."""
    stored = store.read()
    if stored is None:
        missing = [name for name in SEED_FIELDS if not oauth[name]]
        if missing:
            raise PinterestConnectionError(
                f"credential store {store!r} of connection {conn_id!r} is empty and the connection cannot seed it "
                f"(no {', '.join(missing)} in its extra): run `modulex-pinterest auth login --credentials STORE` "
                "to store a grant there"
            )
        seed = cast(Credentials, {"mode": "oauth2", **{name: value for name, value in oauth.items() if value}})
        with store.lease(LEASE_SECONDS, LEASE_SECONDS) as held:
            if not held:
                raise PinterestConnectionError(f"credential store {store!r} stayed locked for {LEASE_SECONDS:g} s")
            stored = store.read()
            if stored is None:
                store.save(seed)
                return
    if oauth["app_id"] and stored.get("app_id") not in (None, str(oauth["app_id"])):
        raise PinterestConnectionError(
            f"credential store {store!r} holds a grant of another app than connection {conn_id!r}'s app_id"
        )


def pinterest_connection(conn: Any, settings: dict[str, Any] | None = None) -> PinterestConnection:
    """Credentials or store, and settings, from an Airflow ``Connection`` (``settings`` override its extra's)."""
    conn_id = conn.conn_id
    extra = conn.extra_dejson
    merged = {key: value for key in setting_keys() if (value := _field(extra, key)) is not None}
    base_url = (conn.host or "").strip().rstrip("/")
    if base_url:  # else the plugin's (the token endpoint follows what the plugin is given)
        merged["base_url"] = base_url
    merged.update(settings or {})
    oauth = {name: _field(extra, name) for name in (*SEED_FIELDS, "access_token")}
    oauth["expires_at"] = _expires_at(conn_id, _field(extra, "expires_at"))
    spec = _field(extra, "credential_store")
    if spec:
        store = shared_store(str(spec))
        _seed(store, conn_id, oauth)
        return PinterestConnection(merged, store=store)
    given = [name for name in SEED_FIELDS if oauth[name]]
    if given:
        raise PinterestConnectionError(
            f"connection {conn_id!r} is OAuth 2.0 ({', '.join(given)} in its extra) but has no credential_store: "
            "set 'credential_store' in its extra to a file path or redis://HOST:PORT/DB?key=KEY where rotated "
            "tokens are kept (Airflow tasks cannot update a connection)"
        )
    token = (conn.password or "").strip()
    if not token:
        raise PinterestConnectionError(
            f"connection {conn_id!r} has no access token: set its password, or for OAuth 2.0 "
            "'credential_store' (and app_id, app_secret, refresh_token to seed it) in its extra"
        )
    return PinterestConnection(merged, credentials={"mode": "access_token", "access_token": token})


class PinterestHook(BaseHook):
    """Runs Pinterest actions with the credentials of one Airflow connection.

    The connection form (its extra fields, labels, secret widgets) is declared in
    :func:`~modulex_pinterest.airflow.get_provider_info` (``conn-fields``,
    ``ui-field-behaviour``), which Airflow reads from 3.2 on without importing
    this module; the older hook classmethods for it are deprecated there.

    :param pinterest_conn_id: the ``pinterest`` connection to use.
    :param settings: plugin settings over the connection's (``deadline``, ``timeout``, ...).
    """

    conn_name_attr = "pinterest_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Pinterest"

    def __init__(self, pinterest_conn_id: str = DEFAULT_CONN_ID, settings: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.pinterest_conn_id = pinterest_conn_id
        self.settings = dict(settings or {})
        self._connection: PinterestConnection | None = None

    def get_conn(self) -> PinterestConnection:
        """The connection's credentials or store, and settings (read once per hook)."""
        if self._connection is None:
            self._connection = pinterest_connection(self.get_connection(self.pinterest_conn_id), self.settings)
        return self._connection

    def action(self, action: str) -> dict[str, Any]:
        """The action's manifest entry (``HostError`` for an unknown action, listing the known ones)."""
        return shared_host().action(PLUGIN, action)

    def run(
        self,
        action: str,
        inputs: Any,
        deadline: float | None = None,
        report_failure: FailureReport | None = None,
    ) -> dict[str, Any]:
        """Run one action: its output, with ``success`` and ``error``; a failed action does not raise.

        ``deadline``: seconds the whole action may take at most (the connection's
        ``deadline`` applies when it is shorter). ``report_failure``: told, when the
        action fails, whether it may be run again (the host contract's ``FailureReport``).
        Progress (pages, waits, uploads) goes to the task log, as the CLI shows it on a terminal.
        """
        self.action(action)
        conn = self.get_conn()
        settings = conn.settings
        if deadline is not None:
            settings = {**settings, "deadline": min(float(settings.get("deadline", deadline)), deadline)}
        self.log.info("Pinterest %s at %s", action, settings.get("base_url") or plugin_manifest()["api"]["base_url"])
        return shared_host(conn.store).run(
            PLUGIN,
            action,
            inputs,
            conn.credentials,
            settings,
            store=conn.store,
            progress=self._progress_logger(),
            report_failure=report_failure,
        )

    def refresh_credentials(self) -> dict[str, Any]:
        """Refresh the connection's stored OAuth grant now, under the same lease and
        compare-and-swap as every worker: a DAG that runs this ahead of expiry means
        the tasks almost never refresh themselves (see examples/airflow/). The
        answer has ``success`` and ``error``; it never holds a token."""
        conn = self.get_conn()
        if conn.store is None:
            raise PinterestConnectionError(
                f"connection {self.pinterest_conn_id!r} uses an access token: there is no grant to refresh"
            )
        return shared_host(conn.store).refresh(PLUGIN, conn.store, conn.settings)

    def _progress_logger(self) -> Progress:
        return progress_printer(lambda text: self.log.info("Pinterest: %s", text))

    def test_connection(self) -> tuple[bool, str]:
        """The UI's "Test" button: one authenticated call (``GET /user_account``)."""
        try:
            conn = self.get_conn()
        except Exception as error:  # the message names the field to fix
            return False, str(error)
        answer = shared_host(conn.store).check(PLUGIN, conn.credentials, conn.settings, store=conn.store)
        if not answer["success"]:
            return False, str(answer["error"])
        return True, f"Connected as {answer.get('account') or 'the account'}"
