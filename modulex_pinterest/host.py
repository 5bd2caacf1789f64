"""A small reference host: what a ModuleX engine does to use plugins.

It builds the PluginManager with the published hookspecs, discovers plugins
through the ``modulex.plugins`` entry points, and offers manifest, run and
check. The CLI and the tests go through it, so discovery is exercised for real.
This plugin never imports this module: a host could be anyone's.

Environment switches (as pytest and datasette have):
``MODULEX_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry-point discovery;
``MODULEX_TRACE_HOOKS=1`` logs every hook call and result to stderr
(outputs only; credentials are not printed).
"""

import json
import os
import sys
import threading

import pluggy

from . import hookspecs


class HostError(LookupError):
    """A request the host cannot route: unknown plugin or action."""


class Host:
    def __init__(self, plugins=(), autoload=None):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        if autoload is None:
            autoload = not os.environ.get("MODULEX_DISABLE_PLUGIN_AUTOLOAD")
        if autoload:
            self.pm.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)
        for plugin in plugins:
            self.pm.register(plugin)
        self.pm.check_pending()
        if os.environ.get("MODULEX_TRACE_HOOKS"):
            self._trace()
        self._manifests = None

    def _trace(self):
        def before(hook_name, hook_impls, kwargs):
            shown = {k: v for k, v in kwargs.items() if k != "credentials"}
            print(f"[modulex] call {hook_name} {shown}", file=sys.stderr)

        def after(outcome, hook_name, hook_impls, kwargs):
            print(f"[modulex] done {hook_name} -> {outcome.get_result()!r}"[:2000], file=sys.stderr)

        self.pm.add_hookcall_monitoring(before, after)

    def manifests(self):
        """Every discovered plugin's manifest, by plugin id (read once)."""
        if self._manifests is None:
            self._manifests = {m["id"]: m for m in self.pm.hook.modulex_plugin_manifest()}
        return self._manifests

    def manifest(self, plugin):
        try:
            return self.manifests()[plugin]
        except KeyError:
            raise HostError(f"no plugin {plugin!r} is installed (found: {', '.join(sorted(self.manifests())) or 'none'})") from None

    def action(self, plugin, action):
        for entry in self.manifest(plugin)["actions"]:
            if entry["name"] == action:
                return entry
        names = ", ".join(entry["name"] for entry in self.manifest(plugin)["actions"])
        raise HostError(f"plugin {plugin!r} has no action {action!r} (actions: {names})")

    def run(self, plugin, action, inputs, credentials, settings=None):
        self.action(plugin, action)
        result = self.pm.hook.modulex_execute_action(
            plugin=plugin, action=action, inputs=inputs, credentials=credentials, settings=settings or {},
            hooks=self.pm.hook,
        )
        if result is None:
            raise HostError(f"plugin {plugin!r} did not answer action {action!r}")
        return result

    def check(self, plugin, credentials, settings=None):
        self.manifest(plugin)
        result = self.pm.hook.modulex_check_credentials(plugin=plugin, credentials=credentials, settings=settings or {},
                                                        hooks=self.pm.hook)
        if result is None:
            raise HostError(f"plugin {plugin!r} does not check credentials")
        return result

    def options(self, plugin, action, field, inputs, credentials, settings=None, bookmark=None):
        self.action(plugin, action)
        result = self.pm.hook.modulex_action_options(
            plugin=plugin, action=action, field=field, inputs=inputs, credentials=credentials,
            settings=settings or {}, hooks=self.pm.hook, bookmark=bookmark)
        if result is None:
            raise HostError(f"plugin {plugin!r} offers no options")
        return result

    def refresh(self, plugin, credentials, settings=None):
        self.manifest(plugin)
        result = self.pm.hook.modulex_refresh_credentials(plugin=plugin, credentials=credentials,
                                                          settings=settings or {}, hooks=self.pm.hook)
        if result is None:
            raise HostError(f"plugin {plugin!r} does not refresh credentials")
        return result


class CredentialsFile:
    """The reference host's credential store: one JSON file, kept current.

    Registered as a plugin, it implements ``modulex_credentials_updated`` and
    rewrites the file atomically (a 0600 temporary file in the same folder,
    flushed, then renamed over the old one), so a crash never leaves a half
    written file and a rotated refresh token is never lost.
    """

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self._lock = threading.Lock()
        self.credentials = None

    def __repr__(self):
        return f"CredentialsFile({self.path!r})"

    def load(self):
        with open(self.path, encoding="utf-8") as handle:
            self.credentials = json.load(handle)
        if not isinstance(self.credentials, dict):
            raise ValueError(f"{self.path} does not hold a JSON object")
        return self.credentials

    def save(self, credentials):
        import tempfile  # only a host that stores credentials pays for it at start-up

        folder = os.path.dirname(self.path)
        with self._lock:
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".credentials-", suffix=".tmp")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(credentials, handle, indent=2)
                    handle.write("\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                if os.path.exists(temporary):
                    os.unlink(temporary)
                raise
            self.credentials = dict(credentials)

    @hookspecs.hookimpl
    def modulex_credentials_updated(self, plugin, credentials):
        self.save(credentials)
