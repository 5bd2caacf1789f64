"""The ModuleX host contract, as a host publishes it.

No ModuleX host package is public, so this plugin carries the contract it is
built against: the pluggy project name, the entry-point group, and the hooks.
A host builds ``pluggy.PluginManager(PROJECT_NAME)``, adds these specs, and
loads plugins from ``ENTRY_POINT_GROUP``. Hooks are called with keyword
arguments; an implementation may accept a subset of them, so arguments can be
added here later without breaking plugins.
"""

import pluggy

PROJECT_NAME = "modulex"
ENTRY_POINT_GROUP = "modulex.plugins"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def modulex_plugin_manifest():
    """Describe the plugin: its id, credential modes and actions.

    Every plugin contributes one manifest; the host receives a list.

    :returns: the manifest loaded from the plugin's ``plugin.yaml``, with
        ``version`` set and each action's ``input_schema`` and ``output_schema``
        inlined as JSON Schema (draft 2020-12) objects.
    """


@hookspec(firstresult=True)
def modulex_execute_action(plugin, action, inputs, credentials, settings):
    """Run one action of one plugin.

    :param plugin: the id of the plugin that should answer (``manifest["id"]``).
    :param action: the action's name, as in the manifest.
    :param inputs: the node's inputs, validated by the plugin against the
        action's input schema.
    :param credentials: a dict with ``mode`` and that mode's fields as declared
        in the manifest's ``credentials``.
    :param settings: the host's configuration, every key optional, unknown keys
        ignored (``base_url``, ``timeout``, ...).
    :returns: the output object, valid against the action's output schema;
        failures are values (``{"success": False, "error": "..."}``), never
        exceptions. ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_check_credentials(plugin, credentials, settings):
    """Test a connection: one cheap authenticated call with these credentials.

    :param plugin: the id of the plugin that should answer.
    :param credentials: as for :func:`modulex_execute_action`.
    :param settings: as for :func:`modulex_execute_action`.
    :returns: ``{"success": bool, "error": str | None, "account": str | None}``
        (``account`` is the account name when the provider gives it), or
        ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """
