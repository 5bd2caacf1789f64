"""The ModuleX host contract, version 3, as a host publishes it.

No ModuleX host package is public, so this plugin carries the contract it is
built against: the pluggy project name, the entry-point group, the hooks, and
the small protocol of what a host offers a plugin (:class:`PluginHost`).

A host builds ``pluggy.PluginManager(PROJECT_NAME)``, adds these specs, loads
plugins from ``ENTRY_POINT_GROUP``, and calls each hook with keyword
arguments, on the one plugin that owns the call (``pm.subset_hook_caller``),
so that no plugin ever receives another plugin's credentials. Each plugin's
manifest says which ``contract_version`` it needs.

Version 2 replaced version 1's ``hooks`` argument (the host's hook relay, to
which a plugin broadcast rotated credentials) with ``host``, an object that
serves one plugin and one set of credentials. A host still written to version
1 fails when it registers a version 2 plugin (pluggy names the ``host``
argument it does not know), not in the middle of a run.

Version 3 is version 2 plus polling triggers: the manifest's ``triggers`` and
the hook :func:`modulex_poll_trigger`. Nothing of version 2 changed, so a
version 3 host also serves version 2 plugins (they have no triggers); a
version 2 host fails when it registers a version 3 plugin (pluggy names the
``modulex_poll_trigger`` hook it has no spec for).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

import pluggy

PROJECT_NAME = "modulex"
ENTRY_POINT_GROUP = "modulex.plugins"
CONTRACT_VERSION = 3
SUPPORTED_CONTRACT_VERSIONS = (2, 3)
"""The versions a version 3 host serves: 3 is 2 plus triggers."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Credentials(TypedDict, total=False):
    """One connection's credentials, as a host passes and stores them. ``mode`` is
    ``"access_token"`` (only ``access_token``) or ``"oauth2"`` (``app_id``, ``app_secret``,
    ``refresh_token``, and when known ``access_token`` and ``expires_at``, Unix seconds).
    ``rotated_from`` is a fingerprint of the refresh token a refresh replaced (never a token).

    Two notes the plugin keeps beside the tokens, for the other workers sharing them
    (each names a refresh token by its fingerprint, never the token itself):
    ``refreshing``, a refresh of that token was sent at ``since`` (store time) and
    its result is not stored yet; ``rejected``, Pinterest answered ``invalid_grant``
    for it at ``at``: no worker presents it again. Storing new credentials (a login,
    an import) drops both."""

    mode: str
    access_token: str
    app_id: str
    app_secret: str
    refresh_token: str
    expires_at: int
    rotated_from: str
    refreshing: dict[str, Any]
    rejected: dict[str, Any]


@runtime_checkable
class CredentialStore(Protocol):
    """Where one connection's credentials live, shared by every worker that uses them.

    OAuth 2.0 refresh tokens rotate, and presenting a rotated one can revoke
    the whole grant, so a refresh follows one protocol on every worker and
    machine: take :meth:`lease`, :meth:`read` again under it, use what is
    stored if another worker already refreshed, else refresh and
    :meth:`swap` the new tokens in before using them.

    Two methods are optional, looked up with ``getattr``: ``now() -> float``,
    the store's clock in Unix seconds (Redis ``TIME``), so that workers whose
    clocks disagree judge an expiry alike; and ``rescue(credentials) -> str``,
    which keeps credentials the store could not write (in a 0600 file) and
    says where, so tokens Pinterest issued are never dropped.
    """

    @property
    def grant_id(self) -> str:
        """A stable, non-secret name for the stored grant, the same on every
        worker that shares it (a file's real path, a Redis key): it keys the rate
        budget, so workers sharing a grant share one budget. (A property here, so
        a store may compute it or keep it as a plain attribute.)"""

    def read(self) -> Credentials | None:
        """The stored credentials now (``None``: nothing stored)."""

    def lease(self, ttl: float, wait: float) -> AbstractContextManager[bool]:
        """Hold the refresh lease for this grant while the ``with`` block runs.

        Enters ``True`` once held, ``False`` if another holder kept it past
        ``wait`` seconds. The store renews a held lease while its holder lives
        (a lock a dying process releases, or a key with a time limit of
        ``ttl`` seconds renewed well within it), so a crashed holder blocks
        the others for at most about ``ttl`` seconds while a living one keeps
        it through a slow token answer. Before granting it, the store checks
        that it can write: a refresh whose result cannot be stored would burn
        the refresh token. A lease saves work; :meth:`swap` is what keeps the
        store correct.
        """

    def swap(self, presented_refresh_token: str, credentials: Credentials) -> bool:
        """Store ``credentials`` only if the stored refresh token is still
        ``presented_refresh_token`` (compare-and-swap, atomic in the store).

        :returns: whether they were stored.
        """


@runtime_checkable
class RateBudget(Protocol):
    """A request budget shared by every worker that uses the same grant.

    Keys name one grant and one of Pinterest's rate-limit categories
    (``x-ratelimit-category`` in its OpenAPI description, e.g. ``org_read``).
    """

    def reserve(self, key: str, rate: float, max_wait: float) -> float:
        """Reserve one request at ``rate`` requests per second.

        :returns: the seconds to wait before sending it (0: now). When the
            wait would exceed ``max_wait`` nothing is reserved and the wait is
            returned, so the caller can fail at once, saying when to retry.
        """

    def pause(self, key: str, seconds: float) -> None:
        """Nobody sharing ``key`` sends for ``seconds`` (after a 429, a
        ``Retry-After`` or ``X-RateLimit-Remaining: 0``)."""


class _PageCounts(TypedDict):
    event: Literal["page"]
    pages: int
    items: int


class PageEvent(_PageCounts, total=False):
    """A page of a list arrived: ``pages`` read so far and ``items`` gathered so far
    (a trigger's poll counts the items it read).

    A whole-list fetch (``fetch_all``) also says what the page added and where to go on:
    ``page_items``, that page's items (the output's list is these, page after page), and
    ``bookmark``, the bookmark that resumes after it (``None`` at the end of the list). A
    host interrupted mid-fetch (Ctrl-C) can so show what was fetched and how to resume; one
    that does not need them ignores them. Optional: older plugins send the counts alone."""

    page_items: list[dict[str, Any]]
    bookmark: str | None


class WaitEvent(TypedDict):
    """The plugin waits ``seconds`` before sending (a retry, the shared rate budget): ``reason`` says why."""

    event: Literal["wait"]
    seconds: float
    reason: str


class UploadEvent(TypedDict):
    """``bytes`` of a video's ``total`` have been sent to Pinterest's media storage."""

    event: Literal["upload"]
    bytes: int
    total: int


class ProcessingEvent(TypedDict):
    """Pinterest's processing of an uploaded video (``media_id``) is at ``status``."""

    event: Literal["processing"]
    media_id: str
    status: str


ProgressEvent = PageEvent | WaitEvent | UploadEvent | ProcessingEvent
"""Every event a plugin emits; ``event`` tells them apart."""

Progress = Callable[[ProgressEvent], None]
"""Receives a plugin's progress events (:data:`ProgressEvent`) for the one call it was
passed with, as they happen. It must return quickly; a plugin ignores what it raises."""


class Failure(TypedDict):
    """How a failed action (or credential check) failed, for programs; the output's
    ``error`` stays the words for people.

    ``kind``: ``"input"``, ``"settings"`` (host settings the plugin refused),
    ``"credentials"``, ``"refresh"``, or how the request went: ``"http"``,
    ``"timeout"``, ``"connection"``, ``"bad_response"``, ``"too_large"``,
    ``"rate_limited"``, ``"host"``. ``status``: the HTTP status, or ``None``.
    ``retry_after``: seconds, or ``None``. ``retryable``: whether running the same
    action again later may succeed *and* cannot do harm. It is false for inputs,
    settings, credentials and refusals a retry cannot change (400, 401, 403, 404),
    and for an action whose outcome is unknown when the manifest's
    ``request_semantics`` say its request may not be repeated (a create that may
    have happened: running it again could duplicate it).
    """

    kind: str
    status: int | None
    retry_after: float | None
    retryable: bool


SETTING_WORDS = "setting '{name}'"
"""How a plugin's message names a host setting (``.format(name=...)``), and :data:`FRESH_STATE_WORDS`
how it says to start a trigger afresh: one form each, so that a host can say them in its own words (a
command line puts the setting's flag in its place, and "delete the state file FILE")."""
FRESH_STATE_WORDS = "pass no state (null)"
HTTP_LOGGER = "modulex_pinterest.plugin.http"
"""The :mod:`logging` logger the reference plugin writes one redacted line per HTTP exchange to, at
DEBUG (headers and bodies never); a host shows them when asked (``--verbose``)."""


FailureReport = Callable[[Failure], None]
"""Receives, once, the :class:`Failure` of a failed call, for a host that decides whether
to run it again (an engine's retries). It must return quickly; a plugin ignores what it raises."""


@runtime_checkable
class PluginHost(Protocol):
    """What a host hands one plugin with each call; the plugin reaches no further.

    Built per call for the plugin that owns it and the credentials it passes:
    nothing in it belongs to another plugin or another connection.

    It may also carry ``progress`` (a :data:`Progress`): where a person
    watching this call sees progress (a terminal, an MCP client); and
    ``report_failure`` (a :data:`FailureReport`): where an engine learns whether
    a failed action may be retried. Both are optional, not part of the
    protocol: a plugin reads them with ``getattr(host, "progress", None)``, so a
    host without them works.
    """

    contract_version: int
    credential_store: CredentialStore | None
    """Where these credentials are stored; ``None`` when the host cannot store
    refreshed tokens (an OAuth 2.0 refresh then fails before it is sent)."""
    rate_budget: RateBudget | None
    """The shared budget; ``None``: the host offers none and the plugin only
    honours what Pinterest answers."""


@hookspec
def modulex_plugin_manifest() -> dict[str, Any]:  # type: ignore[empty-body]
    """Describe the plugin: its id, contract version, credential modes, actions and triggers.

    Every plugin contributes one manifest; the host receives a list.

    :returns: the manifest loaded from the plugin's ``plugin.yaml``, with
        ``version`` set, ``contract_version`` (the version of this contract it
        needs) and each action's ``input_schema`` and ``output_schema``
        inlined as JSON Schema (draft 2020-12) objects. From version 3, an
        optional ``triggers`` list: each with ``name``, ``title``,
        ``description``, ``input_schema``, ``event_schema`` (one event),
        ``output_schema`` (a poll's answer), ``poll_interval_seconds`` (the
        recommended interval), ``scopes``, ``request`` (the list it reads) and
        builder metadata (``ui``, as for actions), the schemas inlined.
    """


@hookspec(firstresult=True)
def modulex_execute_action(
    plugin: str,
    action: str,
    inputs: dict[str, Any],
    credentials: Credentials,
    settings: dict[str, Any],
    host: PluginHost,
) -> dict[str, Any] | None:
    """Run one action of one plugin.

    :param plugin: the id of the plugin that should answer (``manifest["id"]``).
    :param action: the action's name, as in the manifest.
    :param inputs: the node's inputs, validated by the plugin against the
        action's input schema.
    :param credentials: a dict with ``mode`` and that mode's fields as declared
        in the manifest's ``credentials``; with a ``host.credential_store``,
        what the host read from it.
    :param settings: the host's configuration, every key optional, unknown keys
        ignored (``base_url``, ``timeout``, ``rate_limit``, ...).
    :param host: what the host offers this plugin for this call
        (:class:`PluginHost`).
    :returns: the output object, valid against the action's output schema;
        failures are values (``{"success": False, "error": "..."}``), never
        exceptions. ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_check_credentials(
    plugin: str,
    credentials: Credentials,
    settings: dict[str, Any],
    host: PluginHost,
) -> dict[str, Any] | None:
    """Test a connection: one cheap authenticated call with these credentials.

    :param plugin: the id of the plugin that should answer.
    :param credentials: as for :func:`modulex_execute_action`.
    :param settings: as for :func:`modulex_execute_action`.
    :param host: as for :func:`modulex_execute_action`.
    :returns: ``{"success": bool, "error": str | None, "account": str | None}``
        (``account`` is the account name when the provider gives it), or
        ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_action_options(
    plugin: str,
    action: str,
    field: str,
    inputs: dict[str, Any],
    credentials: Credentials,
    settings: dict[str, Any],
    host: PluginHost,
    bookmark: str | None,
) -> dict[str, Any] | None:
    """The choices for one input field of a node, for a builder's picker.

    The manifest says which fields have options and which fields they depend
    on (``actions[].ui.options``); a builder asks again when one of those
    changes.

    :param plugin: the id of the plugin that should answer.
    :param action: the action whose form is being filled in.
    :param field: the input field to offer choices for.
    :param inputs: the values chosen so far (the fields it depends on).
    :param credentials: as for :func:`modulex_execute_action`.
    :param settings: as for :func:`modulex_execute_action`.
    :param host: as for :func:`modulex_execute_action`.
    :param bookmark: ``None`` for the first page of choices, else the
        ``bookmark`` of the previous answer.
    :returns: ``{"success", "error", "options": [{"label", "value"}], "bookmark"}``,
        or ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_refresh_credentials(
    plugin: str,
    credentials: Credentials,
    settings: dict[str, Any],
    host: PluginHost,
) -> dict[str, Any] | None:
    """Refresh OAuth 2.0 credentials now (for example on a schedule, well
    before the refresh token's own expiry), by the same path as a refresh
    during an action: under the store's lease, stored by compare-and-swap.

    :param plugin: the id of the plugin that should answer.
    :param credentials: OAuth 2.0 credentials (``mode: "oauth2"``).
    :param settings: as for :func:`modulex_execute_action`.
    :param host: as for :func:`modulex_execute_action`; its
        ``credential_store`` is required.
    :returns: ``{"success": bool, "error": str | None, "expires_at": int | None}``,
        or ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_exchange_authorization_code(
    plugin: str,
    code: str,
    redirect_uri: str,
    credentials: Credentials,
    settings: dict[str, Any],
    host: PluginHost,
) -> dict[str, Any] | None:
    """Finish an OAuth 2.0 authorization: the code the provider sent to
    ``redirect_uri`` becomes credentials.

    The host runs the browser part from the manifest (the mode's
    ``authorization_url`` and ``scopes``, a ``state`` it checks, a redirect it
    listens for); the plugin knows the provider's token endpoint and its rules
    (how the app authenticates, lifetimes, rotation), the same ones it uses
    for a refresh.

    :param plugin: the id of the plugin that should answer.
    :param code: the authorization code from the redirect.
    :param redirect_uri: the redirect URI the authorization request named.
    :param credentials: the app's part of OAuth 2.0 credentials
        (``mode: "oauth2"``, ``app_id``, ``app_secret``).
    :param settings: as for :func:`modulex_execute_action`.
    :param host: as for :func:`modulex_execute_action`.
    :returns: ``{"success": bool, "error": str | None, "credentials": dict | None,
        "expires_at": int | None}``: on success the complete credentials, for
        the host to put in its credential store and nowhere else (they hold
        secrets); or ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_poll_trigger(
    plugin: str,
    trigger: str,
    inputs: dict[str, Any],
    credentials: Credentials,
    settings: dict[str, Any],
    state: dict[str, Any] | None,
    host: PluginHost,
) -> dict[str, Any] | None:
    """Poll one trigger once: what is new since the previous poll (contract version 3).

    The host calls it every ``poll_interval_seconds`` or so (the manifest's
    recommendation) for each trigger node, stores the ``state`` a successful
    poll returns (a JSON object opaque to the host, at most the manifest's
    ``trigger_state_max_bytes`` as compact JSON) and passes it back on the
    next poll of the same node.

    :param plugin: the id of the plugin that should answer.
    :param trigger: the trigger's name, as in the manifest's ``triggers``.
    :param inputs: the node's inputs, validated by the plugin against the
        trigger's input schema.
    :param credentials: as for :func:`modulex_execute_action`.
    :param settings: as for :func:`modulex_execute_action`.
    :param state: ``None`` on the first poll, which primes the state and
        reports no events (unless the trigger's inputs ask for the existing
        items); afterwards the ``state`` of the last successful poll. A state
        from another trigger, or for other inputs (another board), is refused
        with an error.
    :param host: as for :func:`modulex_execute_action`.
    :returns: ``{"success": bool, "error": str | None, "events": [...],
        "state": dict | None}``, valid against the trigger's ``output_schema``,
        each event against its ``event_schema``; events are the new items,
        each reported once, oldest first. A failed poll (on any page) returns
        no events and the state it was given: the host keeps its own and
        stores only a successful poll's state, so nothing is lost or repeated.
        ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """
