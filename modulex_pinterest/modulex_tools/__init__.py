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

import importlib.util
import platform
import sys


def _unavailable() -> str | None:
    """Why this face cannot load in this Python, in one line with the next step; None when it can.

    ``pip install '.[modulex]'`` on Python below 3.12 installs nothing and says
    nothing (the extra's requirement is marked ``python_version >= "3.12"``), so
    the import says it here, before anything deeper fails on the missing package.
    """
    if sys.version_info < (3, 12):
        return (
            "the ModuleX face needs Python 3.12 or newer (as modulex-integrations does) and "
            f"`pip install '.[modulex]'` in a venv made with it: this is Python {platform.python_version()}"
        )
    if importlib.util.find_spec("modulex_integrations") is None:
        return (
            "the ModuleX face needs modulex-integrations, which is not installed in "
            f"{sys.prefix}: run `pip install '.[modulex]'` there"
        )
    return None


if (_why := _unavailable()) is not None:
    # An ImportError, as for any missing dependency (a runtime that skips the integrations it
    # cannot import still does), with the reason and the next step, not deep in manifest.py.
    raise ModuleNotFoundError(_why, name="modulex_integrations")

from .manifest import manifest  # noqa: E402
from .tools import TOOLS  # noqa: E402

__all__ = ["TOOLS", "manifest"]
