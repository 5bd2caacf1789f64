"""What the tools share in one runtime process: the reference host, and how a call becomes a run.

One host per process, made on first use: the plugin keeps one HTTP session
per instance (connections are reused across calls) and the host one rate
budget, shared by every tool call in the process.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .. import PLUGIN
from ..contract import Credentials
from ..host import Host

"""The plugin this face runs (its id in the ``modulex.plugins`` entry points)."""
INTEGRATION_NAME = "modulex_pinterest"
"""The integration's name in the runtime, also its ``modulex.tools`` entry point's name:
``modulex-integrations`` ships its own ``pinterest``, and a runtime may load both."""
BASE_URL_VARIABLE = "PINTEREST_BASE_URL"
"""When set, the API base URL the tools call (the sandbox, a proxy); Pinterest's own otherwise."""


@functools.cache
def host() -> Host:
    return Host()


def plugin_manifest() -> dict[str, Any]:
    return host().manifest(PLUGIN)


def settings() -> dict[str, Any]:
    """The host's settings for a call, read at each call (so a changed variable takes effect)."""
    base_url = os.environ.get(BASE_URL_VARIABLE)
    return {"base_url": base_url} if base_url else {}


def credentials(api_key: Any) -> Credentials:
    """The runtime injects the bearer token as ``api_key``, whichever auth schema made it
    (its own OAuth flow refreshes tokens), so the plugin always sees an access token."""
    return {"mode": "access_token", "access_token": str(api_key)} if api_key else {}
