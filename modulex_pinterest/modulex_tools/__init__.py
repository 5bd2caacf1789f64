"""The ModuleX runtime's face: this plugin as a ``modulex.tools`` integration.

The ModuleX runtime loads integrations from the ``modulex.tools`` entry-point
group: a module exporting ``manifest`` (an ``IntegrationManifest`` of the
``modulex-integrations`` package) and ``TOOLS`` (LangChain tools, into which
the runtime injects the bearer token as ``api_key``). This module is one, over
the plugin: each tool runs the plugin's action through the reference host, so
runtime users get the plugin's validation, retries, deadlines, rate budget
and redaction. Both are built from the plugin's manifest; nothing restates an
action by hand.

Needs ``pip install 'modulex-pinterest[modulex]'`` (Python 3.12 or newer, as
``modulex-integrations`` is). The entry point is named ``modulex_pinterest``,
not ``pinterest``: ``modulex-integrations`` ships its own ``pinterest``, and a
runtime may load both.
"""

from __future__ import annotations

from .manifest import manifest
from .tools import TOOLS

__all__ = ["TOOLS", "manifest"]
