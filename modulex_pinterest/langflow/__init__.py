"""The Langflow face: ``pip install 'modulex-pinterest[langflow]'``.

Langflow (its engine ``lfx``) loads an installed distribution that ships an
``extension.json`` as an extension: this package's names the bundle folder
``pinterest/``, which holds one generated node per action and per trigger
(:mod:`.generate` writes them from the manifest). Each node runs through
:mod:`.runtime` and the reference host; none talks HTTP itself. Importing this
package imports no Langflow.
"""
