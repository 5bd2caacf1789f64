"""modulex-pinterest: Pinterest action nodes for ModuleX workflow engines and agents.

The package is discovered by hosts through the ``modulex.plugins`` entry point
(see :mod:`modulex_pinterest.contract`); importing it stays cheap on purpose.
"""

__version__ = "0.1.0"
