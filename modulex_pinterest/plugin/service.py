"""What each hook does, once the hook has checked that the call is this plugin's.

Check the inputs, credentials and settings, hand the work to
:mod:`.actions` through a :class:`~.credentials.Connection`, and turn every
failure into an output value: nothing raises out of here but bugs, which the
hook boundary in :mod:`.hooks` reports. Every action output is validated
against its output schema before it is returned.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from ..contract import Credentials, PluginHost
from . import manifest, triggers
from .client import JsonObject, PinterestClient, new_session
from .credentials import Connection
from .errors import ApiError, CredentialError, InputError, RefreshError, SettingsError, failure_report
from .manage import HANDLERS
from .messages import MAX_DETAIL, MAX_ERROR_LENGTH, api_error_message, clip, plural
from .redaction import install_log_filter, redact, secrets_of
from .settings import Settings
from .validation import PAGE_SIZE_MAX, check_inputs, output_errors

log = install_log_filter(__name__)


def _failed_fetch(action: str, message: str, error: ApiError) -> JsonObject:
    """A failed output; for a whole-list fetch that failed on a later page, with
    the items fetched before it, their count, and the bookmark to resume from."""
    if error.partial is None:
        output = manifest.failed_output(action, message)
        output.update(error.extra or {})
        return output
    items, resume = error.partial
    fetched = plural(len(items), "item")
    message = f"{message}. Returned the {fetched} fetched before that page; its bookmark resumes there"
    output = manifest.failed_output(action, clip(message, MAX_ERROR_LENGTH))
    output.update({manifest.action(action)["list_field"]: items, "count": len(items), "bookmark": resume})
    return output


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


def _report_failure(host: PluginHost | None, action: str, error: Exception) -> None:
    """Tell the host's ``report_failure`` (optional, as ``progress`` is) whether the failed
    action may be run again; never fails the call. An unknown action counts as a create."""
    report = getattr(host, "report_failure", None)
    if report is None:
        return
    method = ((manifest.actions_by_name().get(action) or {}).get("request") or {}).get("method", "POST")
    try:
        report(failure_report(error, idempotent=str(method).upper() in IDEMPOTENT_METHODS))
    except Exception as exc:  # noqa: BLE001 - the host's callback is the host's business
        log.warning("the host's report_failure callback failed (%s)", type(exc).__name__)


class Service:
    """The work behind the hooks. One per plugin instance: it holds the
    connection pool (the only state shared between calls) and nothing about
    credentials, which are per call."""

    def __init__(self) -> None:
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                self._session = new_session()
            return self._session

    def connection(self, credentials: Any, settings: Any, host: PluginHost | None) -> Connection:
        """The call's credentials, settings and host, ready to hand out clients."""
        api = manifest.raw_manifest()["api"]
        oauth = manifest.credential_mode("oauth2") or {}
        try:
            checked = Settings(
                settings if isinstance(settings, dict) else None,
                base_url=api["base_url"],
                token_url=oauth.get("token_url"),
                rate_limit=api["rate_limit"],
            )
        except ValueError as exc:
            raise SettingsError(f"Invalid settings: {exc}") from None
        return Connection(self.session(), credentials, checked, host)

    def execute(self, action: str, inputs: Any, credentials: Any, settings: Any, host: PluginHost | None) -> JsonObject:
        secrets = secrets_of(credentials)
        connection = None
        try:
            checked = check_inputs(action, inputs)
            connection = self.connection(credentials, settings, host)
            output = connection.run(lambda client: HANDLERS[action](client, checked))
        except (InputError, CredentialError, RefreshError) as exc:
            _report_failure(host, action, exc)
            return manifest.failed_output(action, redact(str(exc), secrets))
        except ApiError as error:
            _report_failure(host, action, error)
            context = dict(checked, action=action, scopes=manifest.action(action)["scopes"])
            more = connection.secrets() if connection is not None else ()
            return _failed_fetch(action, api_error_message(error, context, secrets + more), error)
        problems = output_errors(action, output)
        if problems:
            log.error("output of %r broke its schema: %s", action, problems[0].message[:MAX_DETAIL])
            return manifest.failed_output(action, "Internal error: the output did not match the action's output schema")
        return output

    def check_credentials(self, credentials: Any, settings: Any, host: PluginHost | None) -> JsonObject:
        check = manifest.raw_manifest()["credential_check"]
        request = check["request"]
        secrets = secrets_of(credentials)

        def fetch_account(client: PinterestClient) -> JsonObject:
            return client.get(request["path"], category=request["rate_limit_category"])

        connection = None
        try:
            connection = self.connection(credentials, settings, host)
            account = connection.run(fetch_account)
        except (CredentialError, RefreshError) as exc:
            _report_failure(host, "check_credentials", exc)
            return {"success": False, "error": redact(str(exc), secrets), "account": None}
        except ApiError as error:
            _report_failure(host, "check_credentials", error)
            context = {"action": "check_credentials", "scopes": check["scopes"]}
            more = connection.secrets() if connection is not None else ()
            return {"success": False, "error": api_error_message(error, context, secrets + more), "account": None}
        username = account.get("username")
        return {"success": True, "error": None, "account": username if isinstance(username, str) else None}

    def options(
        self,
        action: str,
        field: str,
        inputs: Any,
        credentials: Any,
        settings: Any,
        host: PluginHost | None,
        bookmark: str | None,
    ) -> JsonObject:
        """Choices from the field's source list action (``ui.options`` in plugin.yaml), one page at a time."""

        def fail(error: str) -> JsonObject:
            return {"success": False, "error": error, "options": [], "bookmark": None}

        entry = manifest.actions_by_name().get(action) or manifest.triggers_by_name().get(action)
        declared = ((entry or {}).get("ui") or {}).get("options", {}).get(field)
        if declared is None:
            return fail(f"{action!r} has no options for {field!r}"[:MAX_DETAIL])
        inputs = inputs if isinstance(inputs, dict) else {}
        missing = [name for name in declared["depends_on"] if not inputs.get(name)]
        if missing:
            return fail(f"Choose {', '.join(missing)} first: the options for {field!r} depend on it")
        source_inputs: JsonObject = {name: inputs[name] for name in declared["depends_on"]}
        source_inputs["page_size"] = PAGE_SIZE_MAX
        if bookmark:
            source_inputs["bookmark"] = bookmark
        output = self.execute(declared["source"], source_inputs, credentials, settings, host)
        if not output["success"]:
            return fail(output["error"])
        items = output[manifest.action(declared["source"])["list_field"]]
        options = [
            {"label": str(item.get("name") or item.get("title") or item["id"]), "value": item["id"]}
            for item in items
            if isinstance(item.get("id"), str)
        ]
        return {"success": True, "error": None, "options": options, "bookmark": output["bookmark"]}

    def poll(
        self, trigger: str, inputs: Any, credentials: Any, settings: Any, state: Any, host: PluginHost | None
    ) -> JsonObject:
        """One poll of a trigger (:mod:`.triggers`): the events since ``state`` and the next state,
        or a failure with no events and ``state`` unchanged."""
        secrets = secrets_of(credentials)
        connection = None
        try:
            checked = triggers.check_trigger_inputs(trigger, inputs)
            mark = triggers.read_state(trigger, checked, state)
            connection = self.connection(credentials, settings, host)
            events, new_state = connection.run(lambda client: triggers.POLLERS[trigger](client, checked, mark))
        except (InputError, CredentialError, RefreshError, triggers.PollError) as exc:
            return triggers.failed(redact(str(exc), secrets), state)
        except ApiError as error:
            context = dict(checked, action=trigger, scopes=manifest.trigger(trigger)["scopes"])
            more = connection.secrets() if connection is not None else ()
            return triggers.failed(api_error_message(error, context, secrets + more), state)
        output: JsonObject = {"success": True, "error": None, "events": events, "state": new_state}
        problem = triggers.output_problem(trigger, output)
        if problem:
            log.error("output of trigger %r broke its schema: %s", trigger, problem)
            return triggers.failed("Internal error: the output did not match the trigger's schemas", state)
        return output

    def refresh(self, credentials: Any, settings: Any, host: PluginHost | None) -> JsonObject:
        def fail(error: str) -> JsonObject:
            return {"success": False, "error": error, "expires_at": None}

        try:
            connection = self.connection(credentials, settings, host)
            if connection.mode != "oauth2":
                return fail("Only OAuth 2.0 credentials (mode 'oauth2') can be refreshed")
            updated = connection.fresh(force=True)
        except (CredentialError, RefreshError) as exc:
            return fail(redact(str(exc), secrets_of(credentials)))
        return {"success": True, "error": None, "expires_at": updated.get("expires_at")}

    def exchange_code(
        self, code: Any, redirect_uri: Any, credentials: Any, settings: Any, host: PluginHost | None
    ) -> JsonObject:
        def fail(error: str) -> JsonObject:
            return {"success": False, "error": error, "credentials": None, "expires_at": None}

        if not isinstance(code, str) or not code or not isinstance(redirect_uri, str) or not redirect_uri:
            return fail("Invalid input: 'code' and 'redirect_uri' must be non-empty strings")
        try:
            granted: Credentials = self.connection(credentials, settings, host).exchange_code(code, redirect_uri)
        except (CredentialError, RefreshError) as exc:
            return fail(redact(str(exc), secrets_of(credentials) + (code,)))
        return {"success": True, "error": None, "credentials": granted, "expires_at": granted.get("expires_at")}
