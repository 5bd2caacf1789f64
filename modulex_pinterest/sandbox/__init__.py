"""A Pinterest API v5 stand-in for tests, demos and benchmarks.

Written from Pinterest's OpenAPI description alone and importing nothing from
the rest of ``modulex_pinterest``, so a misreading in the plugin's client cannot
be copied into the server it is tested against.
"""

from .control import DEMO_APP_ID, DEMO_APP_SECRET, DEMO_TOKEN, Sandbox, demo_app
from .server import Exchange

__all__ = ["DEMO_APP_ID", "DEMO_APP_SECRET", "DEMO_TOKEN", "Exchange", "Sandbox", "demo_app"]
