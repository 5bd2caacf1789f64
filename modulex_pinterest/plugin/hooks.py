"""The hook implementations a ModuleX host calls.

Thin on purpose: answer only calls for this plugin's id (a ``firstresult``
hook routed by id relies on every plugin doing so), hand the rest to
:class:`~.service.Service`, and turn anything unexpected into an output value.
Nothing raises out of a hook.

Discovery imports this module, so it imports only the contract, the manifest
(PyYAML) and the redaction filter. The service, which needs requests and
fastjsonschema, is imported on the first call that needs it, here
(:meth:`PinterestPlugin.service`): a host that only lists plugins never pays
for it. (The one other deferred import is jsonschema's, in
:func:`.validation._validator`: it only explains a rejection.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..contract import Credentials, PluginHost, hookimpl
from .messages import MAX_SHOWN_NAME, internal_error
from .redaction import install_log_filter, redact, secrets_of
from .spec import manifest

if TYPE_CHECKING:
    from .service import Service

log = install_log_filter(__name__)
JsonObject = dict[str, Any]


def _internal_error(exc: Exception, what: str, credentials: Any) -> str:
    log.error("unexpected %s in %s", type(exc).__name__, what)
    return redact(internal_error(exc), secrets_of(credentials))


class PinterestPlugin:
    """One plugin instance serves many engine worker threads and every host in
    the process: its service holds the connection pool and nothing about credentials."""

    def __init__(self) -> None:
        self._service: Service | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<PinterestPlugin {manifest.spec().id!r}>"

    def service(self) -> Service:
        with self._lock:
            if self._service is None:
                from .service import Service  # the one deferred import: see the module's docstring

                self._service = Service()
            return self._service

    def _answer(
        self, what: str, credentials: Any, work: Callable[[Service], JsonObject], failed: Callable[[str], JsonObject]
    ) -> JsonObject:
        """The hook boundary: ``work``'s output, or ``failed(message)`` for anything unexpected."""
        try:
            return work(self.service())
        except Exception as exc:  # noqa: BLE001 - errors are values at the hook boundary
            return failed(_internal_error(exc, what, credentials))

    @hookimpl
    def modulex_plugin_manifest(self) -> JsonObject:
        return manifest.manifest()

    @hookimpl
    def modulex_execute_action(
        self,
        plugin: str,
        action: str,
        inputs: Any,
        credentials: Credentials,
        settings: dict[str, Any],
        host: PluginHost,
    ) -> JsonObject | None:
        if plugin != manifest.spec().id:
            return None

        return self._answer(
            f"action {str(action)[:MAX_SHOWN_NAME]!r}",
            credentials,
            lambda service: service.execute(action, inputs, credentials, settings, host),
            lambda error: manifest.failed_output(manifest.find_action(action), error),
        )

    @hookimpl
    def modulex_check_credentials(
        self, plugin: str, credentials: Credentials, settings: dict[str, Any], host: PluginHost
    ) -> JsonObject | None:
        if plugin != manifest.spec().id:
            return None
        return self._answer(
            "the credential check",
            credentials,
            lambda service: service.check_credentials(credentials, settings, host),
            lambda error: {"success": False, "error": error, "account": None},
        )

    @hookimpl
    def modulex_action_options(
        self,
        plugin: str,
        action: str,
        field: str,
        inputs: Any,
        credentials: Credentials,
        settings: dict[str, Any],
        host: PluginHost,
        bookmark: str | None,
    ) -> JsonObject | None:
        if plugin != manifest.spec().id:
            return None
        return self._answer(
            "options",
            credentials,
            lambda service: service.options(action, field, inputs, credentials, settings, host, bookmark),
            lambda error: {"success": False, "error": error, "options": [], "bookmark": None},
        )

    @hookimpl
    def modulex_poll_trigger(
        self,
        plugin: str,
        trigger: str,
        inputs: Any,
        credentials: Credentials,
        settings: dict[str, Any],
        state: Any,
        host: PluginHost,
    ) -> JsonObject | None:
        if plugin != manifest.spec().id:
            return None
        return self._answer(
            f"trigger {str(trigger)[:MAX_SHOWN_NAME]!r}",
            credentials,
            lambda service: service.poll(trigger, inputs, credentials, settings, state, host),
            lambda error: {
                "success": False,
                "error": error,
                "events": [],
                "state": state if isinstance(state, dict) else None,
            },
        )

    @hookimpl
    def modulex_refresh_credentials(
        self, plugin: str, credentials: Credentials, settings: dict[str, Any], host: PluginHost
    ) -> JsonObject | None:
        if plugin != manifest.spec().id:
            return None
        return self._answer(
            "a refresh",
            credentials,
            lambda service: service.refresh(credentials, settings, host),
            lambda error: {"success": False, "error": error, "expires_at": None},
        )

    @hookimpl
    def modulex_exchange_authorization_code(
        self,
        plugin: str,
        code: str,
        redirect_uri: str,
        credentials: Credentials,
        settings: dict[str, Any],
        host: PluginHost,
    ) -> JsonObject | None:
        if plugin != manifest.spec().id:
            return None
        return self._answer(
            "the code exchange",
            credentials,
            lambda service: service.exchange_code(code, redirect_uri, credentials, settings, host),
            lambda error: {"success": False, "error": error, "credentials": None, "expires_at": None},
        )


plugin = PinterestPlugin()
