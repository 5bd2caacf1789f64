"""modulex-pinterest: Pinterest action nodes for ModuleX workflow engines and agents.

The package is discovered by hosts through the ``modulex.plugins`` entry point
(see :mod:`modulex_pinterest.contract`); importing it stays cheap on purpose.
"""

__version__ = "0.1.0"

PLUGIN = "pinterest"
"""The plugin's id in plugin.yaml, by which the faces address it through a host (a test holds the two equal)."""

MASK = "[redacted]"
"""What stands in for a secret wherever text would show one (the plugin's errors and logs, the login page)."""
