"""The Apache Airflow provider: ``pip install 'modulex-pinterest[airflow]'``.

A ``pinterest`` connection type, :class:`~modulex_pinterest.airflow.hooks.PinterestHook`
(a connection -> credentials, a credential store and settings, then the reference
host) and :class:`~modulex_pinterest.airflow.operators.PinterestActionOperator`
(one action per task, its output as the task's XCom value).

Airflow finds this package through the ``apache_airflow_provider`` entry point,
which names :func:`get_provider_info`. This module imports no Airflow, so
discovery (and ``import modulex_pinterest``) stays cheap; the hook and the
operator are imported when first named. What the plugin declares (its API's
base URL, the settings plugin.yaml offers to Airflow) is read from its manifest
through the reference host (:func:`plugin_manifest`), never restated here.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from .. import PLUGIN, __version__
from ..host.declared import declared_default, declared_settings

CONN_TYPE = "pinterest"
DEFAULT_CONN_ID = "pinterest_default"
FACE = "airflow"  # the settings plugin.yaml marks with this face are connection extra keys and form fields

# The connection form's credential fields (Airflow's ``conn-fields``, with the setting fields of
# :func:`setting_fields`): stored in the connection's extra under these names. ``format: password``
# makes a field secret.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "credential_store": {
        "label": "Credential store (OAuth 2.0)",
        "schema": {"type": ["string", "null"]},
        "description": (
            "Where OAuth 2.0 tokens are kept as they rotate: a file path shared by the workers of one machine, "
            "or redis://HOST:PORT/DB?key=KEY for many. Required for OAuth 2.0."
        ),
    },
    "app_id": {
        "label": "App ID (OAuth 2.0)",
        "schema": {"type": ["string", "null"]},
        "description": "The Pinterest app's id. Setting it makes this an OAuth 2.0 connection.",
    },
    "app_secret": {
        "label": "App secret (OAuth 2.0)",
        "schema": {"type": ["string", "null"], "format": "password"},
        "description": "The Pinterest app's secret.",
    },
    "refresh_token": {
        "label": "Refresh token (OAuth 2.0, first use)",
        "schema": {"type": ["string", "null"], "format": "password"},
        "description": (
            "Seeds an empty credential store once; after that the store's refresh token is the current one."
        ),
    },
    "access_token": {
        "label": "Access token (OAuth 2.0, first use)",
        "schema": {"type": ["string", "null"], "format": "password"},
        "description": "Optional, seeds an empty credential store with the refresh token.",
    },
    "expires_at": {
        "label": "Access token expires at (OAuth 2.0, first use)",
        "schema": {"type": ["string", "integer", "null"]},
        "description": (
            "When the seeded access token expires: Unix seconds or an ISO 8601 time such as "
            "2026-12-31T09:00:00Z (Pinterest's answer gives expires_in seconds from when it was issued). "
            "Without it a seeded access token is used until Pinterest refuses it, then refreshed."
        ),
    },
}


@functools.cache
def plugin_manifest() -> dict[str, Any]:
    """The plugin's manifest as the reference host gives it (read once per process)."""
    from ..host import Host

    return Host().manifest(PLUGIN)


def offered_settings() -> list[dict[str, Any]]:
    """The settings plugin.yaml offers to Airflow: keys of a connection's extra, fields of its form."""
    return declared_settings(plugin_manifest(), FACE)


def setting_fields() -> dict[str, dict[str, Any]]:
    """The form fields of :func:`offered_settings`: label, type and bounds, and the declared description."""
    fields = {}
    for entry in offered_settings():
        types = [entry["type"]] if isinstance(entry["type"], str) else entry["type"]
        schema = {"type": [next(kind for kind in types if kind != "array"), "null"]}
        schema.update({key: entry[key] for key in ("minimum", "exclusiveMinimum") if key in entry})
        unit = f" ({entry['unit']})" if "unit" in entry else ""
        label = entry["name"].replace("_", " ").capitalize() + unit
        fields[entry["name"]] = {"label": label, "schema": schema, "description": entry["description"]}
    return fields


def conn_fields() -> dict[str, dict[str, Any]]:
    """Every extra field of the connection form: the credential fields, then the settings'."""
    return {**copy.deepcopy(CONN_FIELDS), **setting_fields()}


def ui_field_behaviour() -> dict[str, Any]:
    """The connection form's hidden fields, labels and placeholders (the manifest's base URL and defaults)."""
    manifest = plugin_manifest()
    defaults = {entry["name"]: declared_default(manifest, entry) for entry in offered_settings()}
    return {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API base URL", "password": "Access token"},
        "placeholders": {
            "host": manifest["api"]["base_url"],
            "password": "pina_... (leave empty for OAuth 2.0)",
            "credential_store": "/var/lib/airflow/pinterest.json or redis://HOST:6379/0?key=pinterest",
            "extra": json.dumps({name: value for name, value in defaults.items() if value is not None}),
        },
    }


def get_provider_info() -> dict[str, Any]:
    """What Airflow reads at discovery (``apache_airflow_provider`` entry point); a fresh copy each call."""
    return {
        "package-name": "modulex-pinterest",
        "name": "Pinterest (ModuleX)",
        "description": "Pinterest actions (boards, sections, pins) through the modulex-pinterest plugin.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Pinterest",
                "external-doc-url": "https://developers.pinterest.com/docs/api/v5/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "Pinterest", "python-modules": ["modulex_pinterest.airflow.hooks"]}],
        "operators": [{"integration-name": "Pinterest", "python-modules": ["modulex_pinterest.airflow.operators"]}],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "modulex_pinterest.airflow.hooks.PinterestHook",
                "hook-name": "Pinterest",
                "conn-fields": conn_fields(),
                "ui-field-behaviour": ui_field_behaviour(),
            }
        ],
    }


def __getattr__(name: str) -> Any:
    """``from modulex_pinterest.airflow import PinterestHook, PinterestActionOperator`` (imports Airflow);
    ``DEFAULT_BASE_URL``: the manifest's API base URL, used when a connection names no host."""
    if name == "DEFAULT_BASE_URL":
        return plugin_manifest()["api"]["base_url"]
    if name == "PinterestHook":
        from .hooks import PinterestHook

        return PinterestHook
    if name == "PinterestActionOperator":
        from .operators import PinterestActionOperator

        return PinterestActionOperator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
