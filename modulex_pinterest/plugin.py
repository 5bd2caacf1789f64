"""The hook implementations a ModuleX host calls.

Thin on purpose: check the inputs, credentials and settings, hand the work to
:mod:`modulex_pinterest.actions`, and turn every failure into an output value.
Nothing raises out of a hook, and every output is validated against the
action's output schema before it is returned.

The entry point ``modulex.plugins: pinterest`` names the :data:`plugin`
instance below; it owns one HTTP session (the connection pool), created on
first use so that discovery costs no network setup.
"""

import logging
import threading

from . import manifest
from .hookspecs import hookimpl
from .redaction import install_log_filter, redact
from .validation import InputError, check_inputs

log = install_log_filter(__name__)

MAX_TOKEN_LENGTH = 4096


class CredentialError(ValueError):
    """Credentials that cannot be used; the message never contains a secret."""


def access_token_from(credentials):
    """The bearer token to send, from either credential mode.

    A token with surrounding whitespace (a pasted newline) is trimmed; one with
    whitespace or control characters inside is refused, since requests would
    echo it in an exception.
    """
    if not isinstance(credentials, dict) or not credentials:
        raise CredentialError("Missing credentials: provide an access token (mode 'access_token') or OAuth 2.0 credentials (mode 'oauth2')")
    mode = credentials.get("mode") or ("oauth2" if credentials.get("app_id") else "access_token")
    entry = manifest.credential_mode(mode)
    if entry is None:
        raise CredentialError(f"Unknown credential mode {str(mode)[:40]!r}: use 'access_token' or 'oauth2'")
    token = credentials.get("access_token")
    if not isinstance(token, str) or not token.strip():
        if mode == "oauth2":
            raise CredentialError("Missing credentials: the OAuth 2.0 credentials hold no access token yet; authorize the app first")
        raise CredentialError(f"Missing credentials: 'access_token' is required for the {entry['name']} mode")
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or not all("\x21" <= ch <= "\x7e" for ch in token):
        raise CredentialError("Invalid credentials: the access token contains spaces, control or non-ASCII characters; copy it again")
    return token


def _secrets_of(credentials):
    if not isinstance(credentials, dict):
        return ()
    return tuple(str(value) for key, value in credentials.items()
                 if key in ("access_token", "refresh_token", "app_secret") and value)


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

    def __repr__(self):
        return f"<PinterestPlugin {manifest.plugin_id()!r}>"

    def session(self):
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    from .client import new_session

                    self._session = new_session()
        return self._session

    def _client(self, credentials, settings):
        from .client import PinterestClient, Settings

        token = access_token_from(credentials)
        try:
            checked_settings = Settings(settings, manifest.raw_manifest()["api"]["base_url"])
        except ValueError as exc:
            raise CredentialError(f"Invalid settings: {exc}") from None
        return PinterestClient(self.session(), checked_settings, token)

    @hookimpl
    def modulex_plugin_manifest(self):
        return manifest.manifest()

    @hookimpl
    def modulex_execute_action(self, plugin, action, inputs, credentials, settings):
        if plugin != manifest.plugin_id():
            return None
        secrets = _secrets_of(credentials)
        try:
            return self.run(action, inputs, credentials, settings)
        except Exception as exc:  # the hook boundary: errors are values
            log.error("unexpected %s in action %r", type(exc).__name__, action)
            return failure(action, redact(f"Internal error in the Pinterest plugin ({type(exc).__name__})", secrets))

    def run(self, action, inputs, credentials, settings):
        from .actions import HANDLERS
        from .client import ApiError
        from .errors import describe

        handler = HANDLERS.get(action)
        if handler is None or action not in manifest.actions_by_name():
            known = ", ".join(sorted(manifest.actions_by_name()))
            return {"success": False, "error": f"Unknown action {str(action)[:60]!r}; this plugin offers: {known}"}
        try:
            checked = check_inputs(action, inputs)
            client = self._client(credentials, settings)
        except (InputError, CredentialError) as exc:
            return failure(action, str(exc))
        try:
            output = handler(client, checked)
        except ApiError as error:
            context = dict(checked, action=action, scopes=manifest.actions_by_name()[action]["scopes"])
            return failure(action, describe(error, context, _secrets_of(credentials)))
        problems = list(manifest.output_validator(action).iter_errors(output))
        if problems:
            log.error("output of %r broke its schema: %s", action, problems[0].message[:200])
            return failure(action, "Internal error: the output did not match the action's output schema")
        return output

    @hookimpl
    def modulex_check_credentials(self, plugin, credentials, settings):
        if plugin != manifest.plugin_id():
            return None
        from .client import ApiError
        from .errors import describe

        check = manifest.raw_manifest()["credential_check"]
        try:
            client = self._client(credentials, settings)
            account = client.get(check["request"]["path"])
        except CredentialError as exc:
            return {"success": False, "error": str(exc), "account": None}
        except ApiError as error:
            context = {"action": "check_credentials", "scopes": check["scopes"]}
            return {"success": False, "error": describe(error, context, _secrets_of(credentials)), "account": None}
        except Exception as exc:
            log.error("unexpected %s in the credential check", type(exc).__name__)
            return {"success": False, "error": f"Internal error in the Pinterest plugin ({type(exc).__name__})", "account": None}
        username = account.get("username")
        return {"success": True, "error": None, "account": username if isinstance(username, str) else None}


plugin = PinterestPlugin()
