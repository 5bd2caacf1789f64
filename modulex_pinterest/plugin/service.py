"""What each hook does, once the hook has checked that the call is this plugin's.

Check the inputs, credentials and settings, hand the work to the action's
handler (:mod:`.actions`) with a :class:`~.run.Run` and a client from the
credentials' :class:`~.credentials.Connection`, and turn every failure into an
output value: nothing raises out of here but bugs, which the hook boundary in
:mod:`.hooks` reports. Every output is validated against its schema before it
is returned.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from ..contract import Credentials, PluginHost
from .actions import HANDLERS, POLLERS, triggers
from .credentials import Connection
from .errors import ApiError, CredentialError, InputError, PluginError, RefreshError, SettingsError, failure_report
from .messages import MAX_DETAIL, MAX_ERROR_LENGTH, api_error_message, clip, shown
from .redaction import install_log_filter, redact, secrets_of
from .run import Failed, JsonObject, Run
from .settings import Settings
from .spec import manifest
from .spec.model import Action
from .spec.validation import PAGE_SIZE_MAX, check_inputs, output_errors
from .transport.client import new_session

log = install_log_filter(__name__)


def _report_failure(host: PluginHost | None, error: Exception, *, rerun: bool, step: str | None = None) -> None:
    """Tell the host's ``report_failure`` (optional, as ``progress`` is) whether the failed
    call may be run again; never fails the call."""
    report = getattr(host, "report_failure", None)
    if report is None:
        return
    try:
        report(failure_report(error, rerun=rerun, step=step))
    except Exception as exc:  # noqa: BLE001 - the host's callback is the host's business
        log.warning("the host's report_failure callback failed (%s)", type(exc).__name__)


def _action(name: Any) -> Action:
    action = manifest.find_action(name)
    if action is None:
        offered = ", ".join(sorted(manifest.spec().actions))
        raise InputError(f"Unknown action {shown(name)}; this plugin offers: {offered}")
    return action


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
        """The call's credentials, settings (plugin.yaml's declarations applied) and host, ready to hand out clients."""
        try:
            checked = Settings(settings if isinstance(settings, dict) else None)
        except ValueError as exc:
            raise SettingsError(f"Invalid settings: {exc}") from None
        run = Run(checked, progress=getattr(host, "progress", None))  # progress: optional since contract version 2
        return Connection(self.session(), credentials, run, host)

    def execute(self, name: Any, inputs: Any, credentials: Any, settings: Any, host: PluginHost | None) -> JsonObject:
        secrets = secrets_of(credentials)
        action: Action | None = None
        connection = None
        try:
            action = _action(name)
            checked = check_inputs(action, inputs)
            connection = self.connection(credentials, settings, host)
            outcome = HANDLERS[action.handler](action, checked, connection.client(), connection.run)
        except ApiError as error:
            outcome = Failed(error)
        except PluginError as exc:
            _report_failure(host, exc, rerun=False)
            return manifest.failed_output(action, redact(str(exc), secrets))
        assert action is not None  # set before anything that returns an outcome
        if isinstance(outcome, Failed):
            more = connection.secrets() if connection is not None else ()
            return self._failed(action, checked, outcome, host, secrets + more)
        problems = output_errors(action, outcome)
        if problems:
            log.error("output of %r broke its schema: %s", action.name, problems[0].message[:MAX_DETAIL])
            return manifest.failed_output(action, "Internal error: the output did not match the action's output schema")
        return outcome

    @staticmethod
    def _failed(
        action: Action, inputs: JsonObject, failed: Failed, host: PluginHost | None, secrets: tuple[str, ...]
    ) -> JsonObject:
        """A failed output: the message for people, the fields the handler achieved, and the report for engines."""
        _report_failure(host, failed.error, rerun=action.request.semantics.rerun, step=failed.step)
        context = dict(inputs, scopes=action.scopes, **failed.fields)
        message = api_error_message(failed.error, context, secrets, action=action, step=failed.step) + failed.note
        output = manifest.failed_output(action, clip(message, MAX_ERROR_LENGTH))  # redacted: only the note is added
        output.update(failed.fields)
        return output

    def check_credentials(self, credentials: Any, settings: Any, host: PluginHost | None) -> JsonObject:
        check = manifest.spec().credential_check
        secrets = secrets_of(credentials)
        connection = None
        try:
            connection = self.connection(credentials, settings, host)
            account = connection.client().send(check, check.path, None, None)
        except ApiError as error:
            _report_failure(host, error, rerun=True)
            context = {"scopes": manifest.spec().credential_check_scopes}
            more = connection.secrets() if connection is not None else ()
            return {"success": False, "error": api_error_message(error, context, secrets + more), "account": None}
        except PluginError as exc:
            _report_failure(host, exc, rerun=True)
            return {"success": False, "error": redact(str(exc), secrets), "account": None}
        username = account.get("username")
        return {"success": True, "error": None, "account": username if isinstance(username, str) else None}

    def options(
        self,
        name: str,
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

        spec = manifest.spec()
        entry = spec.actions.get(name) or spec.triggers.get(name)
        picker = entry.pickers.get(field) if entry is not None else None
        if picker is None:
            return fail(f"{name!r} has no options for {field!r}"[:MAX_DETAIL])
        inputs = inputs if isinstance(inputs, dict) else {}
        missing = [depended for depended in picker.depends_on if not inputs.get(depended)]
        if missing:
            return fail(f"Choose {', '.join(missing)} first: the options for {field!r} depend on it")
        source_inputs: JsonObject = {depended: inputs[depended] for depended in picker.depends_on}
        source_inputs["page_size"] = PAGE_SIZE_MAX
        if bookmark:
            source_inputs["bookmark"] = bookmark
        output = self.execute(picker.source, source_inputs, credentials, settings, host)
        if not output["success"]:
            return fail(output["error"])
        items = output[spec.actions[picker.source].list_field or "items"]
        options = [
            {"label": str(item.get("name") or item.get("title") or item["id"]), "value": item["id"]}
            for item in items
            if isinstance(item.get("id"), str)
        ]
        return {"success": True, "error": None, "options": options, "bookmark": output["bookmark"]}

    def poll(
        self, name: Any, inputs: Any, credentials: Any, settings: Any, state: Any, host: PluginHost | None
    ) -> JsonObject:
        """One poll of a trigger (:mod:`.actions.triggers`): the events since ``state`` and the next
        state, or a failure with no events and ``state`` unchanged."""
        secrets = secrets_of(credentials)
        connection = None
        trigger = manifest.spec().triggers.get(name) if isinstance(name, str) else None
        try:
            if trigger is None:
                offered = ", ".join(sorted(manifest.spec().triggers)) or "none"
                raise InputError(f"Unknown trigger {shown(name)}; this plugin offers: {offered}")
            checked = triggers.check_trigger_inputs(trigger, inputs)
            mark = triggers.read_state(trigger.name, checked, state)
            connection = self.connection(credentials, settings, host)
            poller = POLLERS[trigger.handler]
            events, new_state = poller(connection.client(), connection.run, trigger, checked, mark)
        except ApiError as error:
            context = dict(checked, scopes=trigger.scopes) if trigger is not None else {}
            more = connection.secrets() if connection is not None else ()
            return triggers.failed(api_error_message(error, context, secrets + more), state)
        except (PluginError, triggers.PollError) as exc:
            return triggers.failed(redact(str(exc), secrets), state)
        output: JsonObject = {"success": True, "error": None, "events": events, "state": new_state}
        problem = triggers.output_problem(trigger, output)
        if problem:
            log.error("output of trigger %r broke its schema: %s", trigger.name, problem)
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
