"""The hook implementations a ModuleX host calls.

Thin on purpose: check the inputs, credentials and settings, hand the work to
:mod:`modulex_pinterest.actions`, and turn every failure into an output value.
Nothing raises out of a hook, and every output is validated against the
action's output schema before it is returned.

The entry point ``modulex.plugins: pinterest`` names the :data:`plugin`
instance below. It owns one HTTP session (the connection pool, created on
first use so that discovery costs no network setup) and nothing else:
credentials, refreshes and the rate budget are per call
(:mod:`modulex_pinterest.credentials`) and the host's (its ``host`` object).
"""

import threading

from . import manifest
from ..contract import hookimpl
from .redaction import install_log_filter, redact, secrets_of
from .validation import InputError, check_inputs

log = install_log_filter(__name__)


def failure(action_name, error):
    """A failed output: ``success: false``, the error, and the schema's defaults."""
    output = {"success": False, "error": error}
    action = manifest.actions_by_name().get(action_name)
    if action is not None:
        schema = manifest.load_schema(action["output_schema"])
        for name, prop in schema["properties"].items():
            if name in output:
                continue
            if "default" in prop:
                output[name] = prop["default"]
            elif prop.get("type") == "array":
                output[name] = []
    return output


class PinterestPlugin:
    """One plugin instance serves many engine worker threads and every host in
    the process: it holds the connection pool and nothing about credentials."""

    def __init__(self):
        self._session = None
        self._session_lock = threading.Lock()

    def __repr__(self):
        return f"<PinterestPlugin {manifest.plugin_id()!r}>"

    def session(self):
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    from .client import new_session

                    self._session = new_session()
        return self._session

    def connection(self, credentials, settings, host):
        """The call's credentials, settings and host, ready to hand out clients."""
        from .client import Settings
        from .credentials import Connection, CredentialError

        api = manifest.raw_manifest()["api"]
        try:
            checked = Settings(settings, api["base_url"], manifest.credential_mode("oauth2")["token_url"],
                               api["rate_limit"])
        except ValueError as exc:
            raise CredentialError(f"Invalid settings: {exc}") from None
        return Connection(self.session(), credentials, checked, host)

    @hookimpl
    def modulex_plugin_manifest(self):
        return manifest.manifest()

    @hookimpl
    def modulex_execute_action(self, plugin, action, inputs, credentials, settings, host):
        if plugin != manifest.plugin_id():
            return None
        try:
            return self.run(action, inputs, credentials, settings, host)
        except Exception as exc:  # the hook boundary: errors are values
            log.error("unexpected %s in action %r", type(exc).__name__, action)
            return failure(action, redact(f"Internal error in the Pinterest plugin ({type(exc).__name__})",
                                          secrets_of(credentials)))

    def run(self, action, inputs, credentials, settings, host):
        from .actions import HANDLERS
        from .client import ApiError
        from .credentials import CredentialError, RefreshError
        from .errors import describe

        handler = HANDLERS.get(action)
        if handler is None or action not in manifest.actions_by_name():
            known = ", ".join(sorted(manifest.actions_by_name()))
            return {"success": False, "error": f"Unknown action {str(action)[:60]!r}; this plugin offers: {known}"}
        secrets = secrets_of(credentials)
        try:
            checked = check_inputs(action, inputs)
            connection = self.connection(credentials, settings, host)
            output = connection.run(lambda client: handler(client, checked))
        except (InputError, CredentialError, RefreshError) as exc:
            return failure(action, redact(str(exc), secrets))
        except ApiError as error:
            context = dict(checked, action=action, scopes=manifest.actions_by_name()[action]["scopes"])
            return failure(action, describe(error, context, secrets + connection.secrets()))
        problems = manifest.output_errors(action, output)
        if problems:
            log.error("output of %r broke its schema: %s", action, problems[0].message[:200])
            return failure(action, "Internal error: the output did not match the action's output schema")
        return output

    @hookimpl
    def modulex_check_credentials(self, plugin, credentials, settings, host):
        if plugin != manifest.plugin_id():
            return None
        from .client import ApiError
        from .credentials import CredentialError, RefreshError
        from .errors import describe

        check = manifest.raw_manifest()["credential_check"]
        request = check["request"]
        secrets = secrets_of(credentials)
        try:
            connection = self.connection(credentials, settings, host)
            account = connection.run(lambda client: client.get(request["path"],
                                                               category=request["rate_limit_category"]))
        except (CredentialError, RefreshError) as exc:
            return {"success": False, "error": redact(str(exc), secrets), "account": None}
        except ApiError as error:
            context = {"action": "check_credentials", "scopes": check["scopes"]}
            return {"success": False, "error": describe(error, context, secrets + connection.secrets()),
                    "account": None}
        except Exception as exc:
            log.error("unexpected %s in the credential check", type(exc).__name__)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})",
                    "account": None}
        username = account.get("username")
        return {"success": True, "error": None, "account": username if isinstance(username, str) else None}

    @hookimpl
    def modulex_action_options(self, plugin, action, field, inputs, credentials, settings, host, bookmark):
        if plugin != manifest.plugin_id():
            return None
        try:
            return self.options(action, field, inputs, credentials, settings, host, bookmark)
        except Exception as exc:  # the hook boundary: errors are values
            log.error("unexpected %s in options for %r.%r", type(exc).__name__, action, field)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})",
                    "options": [], "bookmark": None}

    def options(self, action, field, inputs, credentials, settings, host, bookmark):
        """Choices from the field's source list action (ui.options in plugin.yaml), one page at a time."""
        def fail(error):
            return {"success": False, "error": error, "options": [], "bookmark": None}

        entry = manifest.actions_by_name().get(action)
        declared = ((entry or {}).get("ui") or {}).get("options", {}).get(field)
        if declared is None:
            return fail(f"{action!r} has no options for {field!r}"[:200])
        inputs = inputs if isinstance(inputs, dict) else {}
        missing = [name for name in declared["depends_on"] if not inputs.get(name)]
        if missing:
            return fail(f"Choose {', '.join(missing)} first: the options for {field!r} depend on it")
        source_inputs = {name: inputs[name] for name in declared["depends_on"]}
        source_inputs["page_size"] = 250
        if bookmark:
            source_inputs["bookmark"] = bookmark
        output = self.run(declared["source"], source_inputs, credentials, settings, host)
        if not output["success"]:
            return fail(output["error"])
        items = next(value for key, value in output.items() if isinstance(value, list))
        options = [{"label": str(item.get("name") or item.get("title") or item["id"]), "value": item["id"]}
                   for item in items if isinstance(item.get("id"), str)]
        return {"success": True, "error": None, "options": options, "bookmark": output["bookmark"]}

    @hookimpl
    def modulex_refresh_credentials(self, plugin, credentials, settings, host):
        if plugin != manifest.plugin_id():
            return None
        from .credentials import CredentialError, RefreshError

        try:
            connection = self.connection(credentials, settings, host)
            if connection.mode != "oauth2":
                return {"success": False, "error": "Only OAuth 2.0 credentials (mode 'oauth2') can be refreshed"}
            updated = connection.fresh(force=True)
        except (CredentialError, RefreshError) as exc:
            return {"success": False, "error": redact(str(exc), secrets_of(credentials))}
        except Exception as exc:
            log.error("unexpected %s while refreshing", type(exc).__name__)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})"}
        return {"success": True, "error": None, "expires_at": updated.get("expires_at")}


plugin = PinterestPlugin()
