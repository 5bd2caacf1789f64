"""``manifest``: the plugin's manifest as the ModuleX runtime's ``IntegrationManifest``.

Display data, every action with its parameters (from each action's input
schema), and both credential modes of plugin.yaml (labels, descriptions, the
OAuth URLs and scopes, the credential check as a test endpoint). Only the
environment variable names are this face's own: they follow the runtime's
convention (``<PREFIX>_API_KEY``, ``<PREFIX>_OAUTH2_CLIENT_ID``,
``<PREFIX>_OAUTH2_CLIENT_SECRET``), the names ``modulex-integrations``' own
Pinterest integration uses, so one Pinterest app serves both.
"""

from __future__ import annotations

from typing import Any

from modulex_integrations.schema import (
    ActionDefinition,
    ApiKeyAuthSchema,
    EnvVar,
    IntegrationManifest,
    OAuth2AuthSchema,
    OAuthConfig,
    ParameterDef,
    SuccessIndicators,
    TestEndpoint,
)

from .. import __version__
from .runtime import INTEGRATION_NAME, plugin_manifest

__all__ = ["build_manifest", "manifest"]

# The runtime's names for the plugin's credential fields (its convention, see above).
ENV_VAR_NAMES = {
    ("access_token", "access_token"): "PINTEREST_API_KEY",
    ("oauth2", "app_id"): "PINTEREST_OAUTH2_CLIENT_ID",
    ("oauth2", "app_secret"): "PINTEREST_OAUTH2_CLIENT_SECRET",
}
# How each credential mode authenticates the test request ({api_key} and {access_token}: the runtime fills them in).
TOKEN_PLACEHOLDERS = {"access_token": "{api_key}", "oauth2": "{access_token}"}
TOKEN_AUTH_METHODS = {"client_secret_basic": "basic", "client_secret_post": "body"}
# Who made it, also in the display name: ``modulex-integrations``' own Pinterest integration is
# listed as "Pinterest", and a runtime with both installed lists both; the names tell them apart.
DISTRIBUTION = "modulex-pinterest"


def _parameters(input_schema: dict[str, Any]) -> dict[str, ParameterDef]:
    required = set(input_schema.get("required", []))
    return {
        name: ParameterDef(
            type=prop["type"],
            description=prop.get("description") or prop.get("title") or name,
            default=prop.get("default"),
            required=name in required,
        )
        for name, prop in input_schema["properties"].items()
    }


def _env_vars(mode: dict[str, Any]) -> list[EnvVar]:
    """The fields a person types in: the ones the runtime names (its OAuth flow fills in the tokens)."""
    return [
        EnvVar(
            name=ENV_VAR_NAMES[(mode["mode"], field["name"])],
            display_name=field["label"],
            description=field["description"],
            required=field["required"],
            sensitive=field["secret"],
        )
        for field in mode["fields"]
        if (mode["mode"], field["name"]) in ENV_VAR_NAMES
    ]


def _test_endpoint(plugin: dict[str, Any], mode: str) -> TestEndpoint:
    check = plugin["credential_check"]
    request = check["request"]
    return TestEndpoint(
        url=plugin["api"]["base_url"] + request["path"],
        method=request.get("method", "GET"),
        headers={"Authorization": f"Bearer {TOKEN_PLACEHOLDERS[mode]}"},
        success_indicators=SuccessIndicators(status_codes=[200]),
        cost_level="minimal",
        description=f"Validates the token by reading the connected account ({request['path']})",
    )


def _auth_schema(plugin: dict[str, Any], mode: dict[str, Any]) -> ApiKeyAuthSchema | OAuth2AuthSchema:
    common: dict[str, Any] = {
        "display_name": mode["name"],
        "description": mode["description"],
        "setup_environment_variables": _env_vars(mode),
        "test_endpoint": _test_endpoint(plugin, mode["mode"]),
    }
    if mode["mode"] == "access_token":
        return ApiKeyAuthSchema(**common)
    oauth = OAuthConfig(
        auth_url=mode["authorization_url"],
        token_url=mode["token_url"],
        scopes=mode["scopes"],
        token_auth_method=TOKEN_AUTH_METHODS[mode["token_endpoint_auth"]],
    )
    return OAuth2AuthSchema(**common, oauth_config=oauth)


def build_manifest(plugin: dict[str, Any]) -> IntegrationManifest:
    """The ``IntegrationManifest`` of a plugin manifest (as the host returns it)."""
    return IntegrationManifest(
        name=INTEGRATION_NAME,
        display_name=f"{plugin['name']} ({DISTRIBUTION})",
        description=plugin["description"],
        version=__version__,
        author=DISTRIBUTION,
        logo="logos:pinterest",
        app_url="https://www.pinterest.com",
        categories=plugin.get("categories", []),
        actions=[
            ActionDefinition(
                name=entry["name"], description=entry["description"], parameters=_parameters(entry["input_schema"])
            )
            for entry in plugin["actions"]
        ],
        auth_schemas=[_auth_schema(plugin, mode) for mode in plugin["credentials"]],
    )


manifest = build_manifest(plugin_manifest())
"""The integration's manifest, built when the runtime imports this module."""
