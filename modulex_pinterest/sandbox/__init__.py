"""A Pinterest API v5 stand-in for tests, demos and benchmarks.

Written from Pinterest's OpenAPI description alone and importing nothing from
the rest of ``modulex_pinterest``, so a misreading in the plugin's client cannot
be copied into the server it is tested against.
"""

from .server import Exchange, Sandbox

__all__ = ["Exchange", "Sandbox"]
