"""The plugin runtime: the hook implementations and everything behind them.

It imports only the host contract (:mod:`modulex_pinterest.contract`), never
the reference host or the things a person runs. The entry point
``modulex.plugins: pinterest`` names :data:`plugin`.
"""

from .hooks import PinterestPlugin, plugin

__all__ = ["PinterestPlugin", "plugin"]
