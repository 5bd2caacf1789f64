"""The Apache Airflow provider: ``pip install 'modulex-pinterest[airflow]'``.

A ``pinterest`` connection type, :class:`~modulex_pinterest.airflow.hooks.PinterestHook`
(a connection -> credentials, a credential store and settings, then the reference
host) and :class:`~modulex_pinterest.airflow.operators.PinterestActionOperator`
(one action per task, its output as the task's XCom value).

Airflow finds this package through the ``apache_airflow_provider`` entry point,
which names :func:`get_provider_info`. This module imports no Airflow, so
discovery (and ``import modulex_pinterest``) stays cheap; the hook and the
operator are imported when first named.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import __version__

CONN_TYPE = "pinterest"
DEFAULT_CONN_ID = "pinterest_default"
DEFAULT_BASE_URL = "https://api.pinterest.com/v5"

# The connection form's extra fields (Airflow's ``conn-fields``): stored in the
# connection's extra under these names. ``format: password`` makes a field secret.
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
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "login"],
    "relabeling": {"host": "API base URL", "password": "Access token"},
    "placeholders": {
        "host": DEFAULT_BASE_URL,
        "password": "pina_... (leave empty for OAuth 2.0)",
        "credential_store": "/var/lib/airflow/pinterest.json or redis://HOST:6379/0?key=pinterest",
        "extra": '{"deadline": 120, "max_retries": 3}',
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
                "conn-fields": copy.deepcopy(CONN_FIELDS),
                "ui-field-behaviour": copy.deepcopy(UI_FIELD_BEHAVIOUR),
            }
        ],
    }


def __getattr__(name: str) -> Any:
    """``from modulex_pinterest.airflow import PinterestHook, PinterestActionOperator`` (imports Airflow)."""
    if name == "PinterestHook":
        from .hooks import PinterestHook

        return PinterestHook
    if name == "PinterestActionOperator":
        from .operators import PinterestActionOperator

        return PinterestActionOperator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
