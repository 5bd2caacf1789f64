"""The hook implementations a ModuleX host calls.

Thin on purpose: check the inputs, credentials and settings, hand the work to
:mod:`modulex_pinterest.actions`, and turn every failure into an output value.
Nothing raises out of a hook, and every output is validated against the
action's output schema before it is returned.

The entry point ``modulex.plugins: pinterest`` names the :data:`plugin`
instance below. It owns one HTTP session (the connection pool, created on
first use so that discovery costs no network setup) and the OAuth refresher
(the lock that makes refreshes single-flight).
"""

import threading

from . import manifest
from .hookspecs import hookimpl
from .redaction import install_log_filter, redact, secrets_of
from .validation import InputError, check_inputs

log = install_log_filter(__name__)

MAX_TOKEN_LENGTH = 4096


class CredentialError(ValueError):
    """Credentials or settings that cannot be used; the message never contains a secret."""


def credential_mode_of(credentials):
    if not isinstance(credentials, dict) or not credentials:
        raise CredentialError("Missing credentials: provide an access token (mode 'access_token') "
                              "or OAuth 2.0 credentials (mode 'oauth2')")
    mode = credentials.get("mode") or ("oauth2" if credentials.get("app_id") else "access_token")
    if manifest.credential_mode(mode) is None:
        raise CredentialError(f"Unknown credential mode {str(mode)[:40]!r}: use 'access_token' or 'oauth2'")
    return mode


def usable_token(token, mode_name):
    """The bearer token to send.

    A token with surrounding whitespace (a pasted newline) is trimmed; one with
    whitespace or control characters inside is refused, since requests would
    echo it in an exception.
    """
    if not isinstance(token, str) or not token.strip():
        raise CredentialError(f"Missing credentials: 'access_token' is required for the {mode_name} mode")
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or not (token.isascii() and token.isprintable()) or " " in token:
        raise CredentialError("Invalid credentials: the access token contains spaces, control or non-ASCII "
                              "characters; copy it again")
    return token


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
    """One plugin instance serves many engine worker threads."""

    def __init__(self):
        self._session = None
        self._session_lock = threading.Lock()
        self._refresher = None

    def __repr__(self):
        return f"<PinterestPlugin {manifest.plugin_id()!r}>"

    def session(self):
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    from .client import new_session
                    from .oauth import TokenRefresher

                    self._refresher = TokenRefresher()
                    self._session = new_session()
        return self._session

    def _settings(self, settings):
        from .client import Settings

        oauth = manifest.credential_mode("oauth2")
        try:
            return Settings(settings, manifest.raw_manifest()["api"]["base_url"], oauth["token_url"])
        except ValueError as exc:
            raise CredentialError(f"Invalid settings: {exc}") from None

    def _publish(self, hooks, credentials):
        """Hand rotated tokens to the host before they are used."""
        if hooks is None:
            log.warning("the host passed no hooks: refreshed OAuth tokens cannot be handed back to it")
            return
        hooks.modulex_credentials_updated(plugin=manifest.plugin_id(), credentials=credentials)

    def authorized(self, credentials, settings, hooks, call):
        """Run ``call(client)`` with a usable token.

        OAuth 2.0 credentials are refreshed first when the access token is
        missing or about to expire, and once more when Pinterest answers 401
        for an invalid or expired token; a 401 for a missing scope is not
        something a refresh can fix.
        """
        from .client import ApiError, PinterestClient
        from .errors import is_scope_error

        mode = credential_mode_of(credentials)
        checked_settings = self._settings(settings)
        session = self.session()
        name = manifest.credential_mode(mode)["name"]
        if mode != "oauth2":
            return call(PinterestClient(session, checked_settings, usable_token(credentials.get("access_token"), name)))

        def publish(updated):
            self._publish(hooks, updated)

        current = self._refresher.fresh(credentials, session, checked_settings, publish)
        token = usable_token(current.get("access_token"), name)
        try:
            return call(PinterestClient(session, checked_settings, token, secrets=secrets_of(current)))
        except ApiError as error:
            if error.status != 401 or is_scope_error(error):
                raise
        current = self._refresher.fresh(credentials, session, checked_settings, publish, rejected_token=token)
        token = usable_token(current.get("access_token"), name)
        return call(PinterestClient(session, checked_settings, token, secrets=secrets_of(current)))

    @hookimpl
    def modulex_plugin_manifest(self):
        return manifest.manifest()

    @hookimpl
    def modulex_execute_action(self, plugin, action, inputs, credentials, settings, hooks):
        if plugin != manifest.plugin_id():
            return None
        try:
            return self.run(action, inputs, credentials, settings, hooks)
        except Exception as exc:  # the hook boundary: errors are values
            log.error("unexpected %s in action %r", type(exc).__name__, action)
            return failure(action, redact(f"Internal error in the Pinterest plugin ({type(exc).__name__})",
                                          secrets_of(credentials)))

    def run(self, action, inputs, credentials, settings, hooks=None):
        from .actions import HANDLERS
        from .client import ApiError
        from .errors import describe
        from .oauth import RefreshError

        handler = HANDLERS.get(action)
        if handler is None or action not in manifest.actions_by_name():
            known = ", ".join(sorted(manifest.actions_by_name()))
            return {"success": False, "error": f"Unknown action {str(action)[:60]!r}; this plugin offers: {known}"}
        try:
            checked = check_inputs(action, inputs)
            output = self.authorized(credentials, settings, hooks, lambda client: handler(client, checked))
        except (InputError, CredentialError, RefreshError) as exc:
            return failure(action, redact(str(exc), secrets_of(credentials)))
        except ApiError as error:
            context = dict(checked, action=action, scopes=manifest.actions_by_name()[action]["scopes"])
            return failure(action, describe(error, context, secrets_of(credentials)))
        problems = manifest.output_errors(action, output)
        if problems:
            log.error("output of %r broke its schema: %s", action, problems[0].message[:200])
            return failure(action, "Internal error: the output did not match the action's output schema")
        return output

    @hookimpl
    def modulex_check_credentials(self, plugin, credentials, settings, hooks):
        if plugin != manifest.plugin_id():
            return None
        from .client import ApiError
        from .errors import describe
        from .oauth import RefreshError

        check = manifest.raw_manifest()["credential_check"]
        try:
            account = self.authorized(credentials, settings, hooks, lambda client: client.get(check["request"]["path"]))
        except (CredentialError, RefreshError) as exc:
            return {"success": False, "error": redact(str(exc), secrets_of(credentials)), "account": None}
        except ApiError as error:
            context = {"action": "check_credentials", "scopes": check["scopes"]}
            return {"success": False, "error": describe(error, context, secrets_of(credentials)), "account": None}
        except Exception as exc:
            log.error("unexpected %s in the credential check", type(exc).__name__)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})",
                    "account": None}
        username = account.get("username")
        return {"success": True, "error": None, "account": username if isinstance(username, str) else None}

    @hookimpl
    def modulex_action_options(self, plugin, action, field, inputs, credentials, settings, hooks, bookmark):
        if plugin != manifest.plugin_id():
            return None
        try:
            return self.options(action, field, inputs, credentials, settings, hooks, bookmark)
        except Exception as exc:  # the hook boundary: errors are values
            log.error("unexpected %s in options for %r.%r", type(exc).__name__, action, field)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})",
                    "options": [], "bookmark": None}

    def options(self, action, field, inputs, credentials, settings, hooks, bookmark):
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
        output = self.run(declared["source"], source_inputs, credentials, settings, hooks)
        if not output["success"]:
            return fail(output["error"])
        items = next(value for key, value in output.items() if isinstance(value, list))
        options = [{"label": str(item.get("name") or item.get("title") or item["id"]), "value": item["id"]}
                   for item in items if isinstance(item.get("id"), str)]
        return {"success": True, "error": None, "options": options, "bookmark": output["bookmark"]}

    @hookimpl
    def modulex_refresh_credentials(self, plugin, credentials, settings, hooks):
        if plugin != manifest.plugin_id():
            return None
        from .oauth import RefreshError

        try:
            if credential_mode_of(credentials) != "oauth2":
                return {"success": False, "error": "Only OAuth 2.0 credentials (mode 'oauth2') can be refreshed"}
            checked_settings = self._settings(settings)
            session = self.session()
            updated = self._refresher.fresh(credentials, session, checked_settings,
                                            lambda new: self._publish(hooks, new), force=True)
        except (CredentialError, RefreshError) as exc:
            return {"success": False, "error": redact(str(exc), secrets_of(credentials))}
        except Exception as exc:
            log.error("unexpected %s while refreshing", type(exc).__name__)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})"}
        return {"success": True, "error": None, "expires_at": updated.get("expires_at")}


plugin = PinterestPlugin()
