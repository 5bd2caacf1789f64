"""A small reference host: what a ModuleX engine does to use plugins.

It builds the PluginManager with the published hookspecs (contract version 3;
it serves plugins needing version 2 or 3), discovers plugins through the
``modulex.plugins`` entry points, and offers manifest, run, check, options,
refresh and poll (triggers). Each call goes to the one plugin
that owns it (``pm.subset_hook_caller``), with a :class:`HostServices` made for
that call: the credential store of that connection and the host's rate
budget. The CLI and the tests go through it, so discovery is exercised for
real. The plugin never imports this package: a host could be anyone's.

Environment switches (as pytest and datasette have):
``MODULEX_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry-point discovery;
``MODULEX_TRACE_HOOKS=1`` logs every hook call and result to stderr
(tokens, secrets, codes and credentials masked wherever they appear).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from .. import contract
from ..contract import (
    CONTRACT_VERSION,
    SUPPORTED_CONTRACT_VERSIONS,
    Credentials,
    CredentialStore,
    FailureReport,
    Progress,
    RateBudget,
)
from .errors import StoreError
from .machine_budget import default_budget
from .stores import CredentialsFile, MemoryStore, open_store
from .trace import scrub

__all__ = ["CredentialsFile", "Host", "HostError", "HostServices", "MemoryStore", "StoreError", "open_store"]

TRACE_LENGTH = 2000  # characters of a hook result shown by MODULEX_TRACE_HOOKS


class HostError(LookupError):
    """A request the host cannot route: unknown plugin or action, or a plugin
    that needs another version of the contract."""


@dataclass(frozen=True)
class HostServices:
    """What this host hands one plugin for one call (:class:`~modulex_pinterest.contract.PluginHost`)."""

    credential_store: CredentialStore | None
    rate_budget: RateBudget | None
    progress: Progress | None = None
    report_failure: FailureReport | None = None
    contract_version: int = CONTRACT_VERSION


class Host:
    """Discovers plugins and routes each call to the one plugin it is for.

    ``budget`` is the rate budget shared by every call this host makes: by
    default a :class:`~.machine_budget.MachineRateBudget`, shared with every
    other process of this machine (CLI runs, an MCP server, each Airflow task);
    in-process where there is no ``fcntl`` (Windows); a Redis store's budget
    shares it across machines.
    """

    def __init__(
        self, plugins: Iterable[object] = (), autoload: bool | None = None, budget: RateBudget | None = None
    ) -> None:
        self.pm = pluggy.PluginManager(contract.PROJECT_NAME)
        self.pm.add_hookspecs(contract)
        if autoload is None:
            autoload = not os.environ.get("MODULEX_DISABLE_PLUGIN_AUTOLOAD")
        if autoload:
            self.pm.load_setuptools_entrypoints(contract.ENTRY_POINT_GROUP)
        for plugin in plugins:
            self.pm.register(plugin)
        self.pm.check_pending()
        if os.environ.get("MODULEX_TRACE_HOOKS"):
            self._trace()
        self.budget = budget if budget is not None else default_budget()
        self._manifests: dict[str, dict[str, Any]] | None = None
        self._owners: dict[str, object] = {}  # plugin id -> the registered plugin object that owns it
        self._refused: dict[str, str] = {}  # plugin id -> why its contract version is refused
        self._callers: dict[tuple[str, str], pluggy.HookCaller] = {}  # (hook, plugin id) -> that plugin's caller

    def __repr__(self) -> str:
        return f"<Host plugins={sorted(self.manifests())}>"

    def _trace(self) -> None:
        """Log each hook call and its result to stderr, without the credentials argument
        and with every secret masked (:func:`.trace.scrub`)."""

        def before(hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
            shown = {k: v for k, v in kwargs.items() if k != "credentials"}
            print(scrub(f"[modulex] call {hook_name}", shown, kwargs), file=sys.stderr)

        def after(
            outcome: pluggy.Result[object],
            hook_name: str,
            hook_impls: Sequence[pluggy.HookImpl],
            kwargs: Mapping[str, Any],
        ) -> None:
            try:
                result = outcome.get_result()
            except BaseException as error:  # noqa: BLE001 - the trace shows what the hook raised, then pluggy re-raises
                result = f"raised {type(error).__name__}"
            print(scrub(f"[modulex] done {hook_name} ->", result, kwargs)[:TRACE_LENGTH], file=sys.stderr)

        self.pm.add_hookcall_monitoring(before, after)

    def manifests(self) -> dict[str, dict[str, Any]]:
        """Every usable plugin's manifest, by plugin id (read once), and who owns each id."""
        if self._manifests is None:
            manifests: dict[str, dict[str, Any]] = {}
            for impl in self.pm.hook.modulex_plugin_manifest.get_hookimpls():
                manifest: dict[str, Any] = impl.function()  # type: ignore[assignment]  # pluggy types impls as object
                needed = manifest.get("contract_version")
                if needed not in SUPPORTED_CONTRACT_VERSIONS:
                    spoken = " and ".join(map(str, SUPPORTED_CONTRACT_VERSIONS))
                    self._refused[manifest["id"]] = (
                        f"plugin {manifest['id']!r} needs host contract version {needed}; "
                        f"this host speaks versions {spoken}"
                    )
                    continue
                manifests[manifest["id"]] = manifest
                self._owners[manifest["id"]] = impl.plugin
            self._manifests = manifests
        return self._manifests

    def manifest(self, plugin: str) -> dict[str, Any]:
        """One plugin's manifest; the :class:`HostError` names what is installed, or why
        this plugin was refused, so a typo or a stale install explains itself."""
        try:
            return self.manifests()[plugin]
        except KeyError:
            if plugin in self._refused:
                raise HostError(self._refused[plugin]) from None
            found = ", ".join(sorted(self.manifests())) or "none"
            raise HostError(f"no plugin {plugin!r} is installed (found: {found})") from None

    def action(self, plugin: str, action: str) -> dict[str, Any]:
        """One action's manifest entry. Routing is checked here, once: :meth:`run` and
        :meth:`options` call it before any plugin sees the request, so a caller need
        not check first; its :class:`HostError` lists the actions there are."""
        for entry in self.manifest(plugin)["actions"]:
            if entry["name"] == action:
                return entry
        names = ", ".join(entry["name"] for entry in self.manifest(plugin)["actions"])
        raise HostError(f"plugin {plugin!r} has no action {action!r} (actions: {names})")

    def trigger(self, plugin: str, trigger: str) -> dict[str, Any]:
        """One trigger's manifest entry (a version 2 plugin has none); its :class:`HostError`
        lists the triggers there are."""
        entries = self.manifest(plugin).get("triggers", [])
        for entry in entries:
            if entry["name"] == trigger:
                return entry
        names = ", ".join(entry["name"] for entry in entries) or "none"
        raise HostError(f"plugin {plugin!r} has no trigger {trigger!r} (triggers: {names})")

    def _call(
        self,
        hook_name: str,
        plugin: str,
        what: str,
        credentials: Credentials | None,
        store: CredentialStore | None,
        progress: Progress | None = None,
        report_failure: FailureReport | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Call ``hook_name`` on ``plugin``'s implementation alone, so no other
        plugin sees these credentials or this store."""
        self.manifest(plugin)
        caller = self._callers.get((hook_name, plugin))
        if caller is None:
            owner = self._owners[plugin]
            others = [p for p in self.pm.get_plugins() if p is not owner]
            caller = self._callers[(hook_name, plugin)] = self.pm.subset_hook_caller(hook_name, others)
        if credentials is None:
            credentials = (store.read() if store is not None else None) or {}
        result = caller(
            plugin=plugin,
            credentials=credentials,
            **kwargs,
            host=HostServices(
                credential_store=store, rate_budget=self.budget, progress=progress, report_failure=report_failure
            ),
        )
        if result is None:
            raise HostError(f"plugin {plugin!r} did not answer {what}")
        return result

    def run(
        self,
        plugin: str,
        action: str,
        inputs: Any,
        credentials: Credentials | None = None,
        settings: dict[str, Any] | None = None,
        *,
        store: CredentialStore | None = None,
        progress: Progress | None = None,
        report_failure: FailureReport | None = None,
    ) -> dict[str, Any]:
        """Run one action. With ``store`` and no ``credentials``, they are read from the store;
        ``progress`` receives the plugin's progress events (pages, items, waits) as they happen;
        ``report_failure``, when the action fails, whether it may be run again (``retryable``)."""
        self.action(plugin, action)
        return self._call(
            "modulex_execute_action",
            plugin,
            f"action {action!r}",
            credentials,
            store,
            progress,
            report_failure,
            action=action,
            inputs=inputs,
            settings=settings or {},
        )

    def check(
        self,
        plugin: str,
        credentials: Credentials | None = None,
        settings: dict[str, Any] | None = None,
        *,
        store: CredentialStore | None = None,
        report_failure: FailureReport | None = None,
    ) -> dict[str, Any]:
        """Check the credentials (and the settings) with one cheap call; ``report_failure``,
        when the check fails, how (``kind``: ``"settings"`` for a setting the plugin refuses)."""
        return self._call(
            "modulex_check_credentials",
            plugin,
            "the credential check",
            credentials,
            store,
            None,
            report_failure,
            settings=settings or {},
        )

    def options(
        self,
        plugin: str,
        action: str,
        field: str,
        inputs: Any,
        credentials: Credentials | None = None,
        settings: dict[str, Any] | None = None,
        bookmark: str | None = None,
        *,
        store: CredentialStore | None = None,
    ) -> dict[str, Any]:
        """A picker's choices for one field of an action's form, or of a trigger's (``action``: its name)."""
        if action not in {entry["name"] for entry in self.manifest(plugin).get("triggers", [])}:
            self.action(plugin, action)
        return self._call(
            "modulex_action_options",
            plugin,
            "options",
            credentials,
            store,
            action=action,
            field=field,
            inputs=inputs,
            settings=settings or {},
            bookmark=bookmark,
        )

    def refresh(self, plugin: str, store: CredentialStore, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Refresh a stored grant now (on a schedule, say), the way an action would."""
        return self._call("modulex_refresh_credentials", plugin, "a refresh", None, store, settings=settings or {})

    def exchange_code(
        self, plugin: str, app: Credentials, code: str, redirect_uri: str, settings: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Turn an authorization code into credentials (``app``: mode, app_id, app_secret).
        The answer's ``credentials`` hold secrets: put them in a store, nowhere else."""
        return self._call(
            "modulex_exchange_authorization_code",
            plugin,
            "the code exchange",
            app,
            None,
            code=code,
            redirect_uri=redirect_uri,
            settings=settings or {},
        )

    def poll(
        self,
        plugin: str,
        trigger: str,
        inputs: Any,
        credentials: Credentials | None = None,
        settings: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        *,
        store: CredentialStore | None = None,
    ) -> dict[str, Any]:
        """Poll one trigger once: ``{"success", "error", "events", "state"}``. ``state``: ``None`` the
        first time, then the ``state`` of the last successful poll; store the answer's ``state`` only
        when ``success`` is true (a failed poll's is the one passed in)."""
        self.trigger(plugin, trigger)
        return self._call(
            "modulex_poll_trigger",
            plugin,
            f"trigger {trigger!r}",
            credentials,
            store,
            trigger=trigger,
            inputs=inputs,
            settings=settings or {},
            state=state,
        )
