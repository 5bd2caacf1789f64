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
def modulex_execute_action(plugin, action, inputs, credentials, settings, hooks):
    """Run one action of one plugin.

    :param plugin: the id of the plugin that should answer (``manifest["id"]``).
    :param action: the action's name, as in the manifest.
    :param inputs: the node's inputs, validated by the plugin against the
        action's input schema.
    :param credentials: a dict with ``mode`` and that mode's fields as declared
        in the manifest's ``credentials``.
    :param settings: the host's configuration, every key optional, unknown keys
        ignored (``base_url``, ``timeout``, ...).
    :param hooks: the calling host's hook relay (``pm.hook``), through which a
        plugin calls the hooks the host implements, such as
        :func:`modulex_credentials_updated`.
    :returns: the output object, valid against the action's output schema;
        failures are values (``{"success": False, "error": "..."}``), never
        exceptions. ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_check_credentials(plugin, credentials, settings, hooks):
    """Test a connection: one cheap authenticated call with these credentials.

    :param plugin: the id of the plugin that should answer.
    :param credentials: as for :func:`modulex_execute_action`.
    :param settings: as for :func:`modulex_execute_action`.
    :param hooks: as for :func:`modulex_execute_action`.
    :returns: ``{"success": bool, "error": str | None, "account": str | None}``
        (``account`` is the account name when the provider gives it), or
        ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_action_options(plugin, action, field, inputs, credentials, settings, hooks, bookmark):
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
    :param hooks: as for :func:`modulex_execute_action`.
    :param bookmark: ``None`` for the first page of choices, else the
        ``bookmark`` of the previous answer.
    :returns: ``{"success", "error", "options": [{"label", "value"}], "bookmark"}``,
        or ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def modulex_refresh_credentials(plugin, credentials, settings, hooks):
    """Refresh OAuth 2.0 credentials now (for example on a schedule, well
    before the refresh token's own expiry).

    The new credentials reach the host through
    :func:`modulex_credentials_updated`, as for any refresh.

    :param plugin: the id of the plugin that should answer.
    :param credentials: OAuth 2.0 credentials (``mode: "oauth2"``).
    :param settings: as for :func:`modulex_execute_action`.
    :param hooks: as for :func:`modulex_execute_action`.
    :returns: ``{"success": bool, "error": str | None, "expires_at": int | None}``,
        or ``None`` when ``plugin`` is not this plugin's id.

    Stops at first non-None result.
    """


@hookspec
def modulex_credentials_updated(plugin, credentials):
    """Implemented by the host: store credentials that a plugin changed.

    Called whenever an OAuth refresh returns new tokens, before the new access
    token is used. Pinterest rotates refresh tokens, and presenting a rotated
    one can revoke the user's whole grant, so the host must replace its stored
    credentials with these (all fields, not only the access token) and use them
    from then on. Called with the plugin's own lock held: keep it quick.

    :param plugin: the id of the plugin whose credentials changed.
    :param credentials: the complete new credentials, as the host passes them
        to :func:`modulex_execute_action`.
    """
