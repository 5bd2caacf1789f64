"""The plugin's words said in the command line's: its flags, its files, its next steps.

The plugin is host-neutral (any host may run it), so its messages name a host setting in one
form, ``setting 'file_roots'``, and say ``pass no state (null)`` to start a trigger afresh
(both defined in ``plugin/messages.py``). A person at the command line knows neither: here a
setting is its flag (``--allow-path``, ``--base-url``, or ``$PINTEREST_BASE_URL`` when that is
where the URL came from) and the state is the ``--state`` file. The flag of a setting the
manifest declares for the command line is derived from the same declarations the parser makes
its flags from (:func:`.flags.declared_settings`): its name as a flag (:func:`flag`); the media
actions' two settings have flags of their own (:data:`~.flags.MEDIA_FLAGS`). A setting the command line
has no flag for (``token_url``) keeps the plugin's words.

Next steps only the command line can give (log in again, start the sandbox) are :meth:`Vocabulary.hints`,
printed on standard error after the answer.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..contract import FRESH_STATE_WORDS, SETTING_WORDS
from ..host.declared import declared_settings
from .flags import MEDIA_FLAGS, flag
from .help import BASE_URL_ENV, TOKEN_ENV
from .output import PROG
from .serve import is_loopback_host

SETTING = re.compile(re.escape(SETTING_WORDS).replace(re.escape("{name}"), "([a-z_]+)"))
"""How a plugin names a setting in a message (:data:`~..contract.SETTING_WORDS`)."""
REFUSED_TOKEN = "Authentication failed:"
"""How the plugin's messages for a failed authentication begin; a refused token's (not a busy refresh
lease's, say) also carry the 401 or the OAuth refusal (:data:`REFUSALS`)."""
REFUSALS = ("HTTP 401", "invalid_grant")
LOGIN = f"{PROG} auth login --app-id ID --app-secret-file FILE --credentials"


@dataclass(frozen=True)
class Vocabulary:
    """How one command line names the plugin's settings, its state, its server and its credentials."""

    names: Mapping[str, str] = field(default_factory=dict)  # setting -> its flag on this command
    state_file: str | None = None  # poll's --state
    base_url: str | None = None  # --base-url or $PINTEREST_BASE_URL, when given
    credentials: str | None = None  # --credentials, where the store is

    @classmethod
    def of(cls, args: argparse.Namespace, manifest: Mapping[str, Any]) -> Vocabulary:
        """The vocabulary of the command ``args`` were parsed for: only the flags it has."""
        names = {
            entry["name"]: flag(entry["name"])
            for entry in declared_settings(manifest, "cli")
            if hasattr(args, entry["name"])
        }
        base_url = getattr(args, "base_url", None)
        if "base_url" in names and base_url is None and os.environ.get(BASE_URL_ENV) is not None:
            names["base_url"] = f"${BASE_URL_ENV}"
            base_url = os.environ[BASE_URL_ENV]
        if hasattr(args, "allow_path"):
            names.update(MEDIA_FLAGS)
        store = getattr(args, "store", None)
        return cls(names, getattr(args, "state", None), base_url, getattr(store, "location", None))

    def say(self, text: str) -> str:
        """``text`` (a plugin's message) with each setting named by its flag, and the state by its file."""
        text = SETTING.sub(lambda match: self.names.get(match[1], match[0]), text)
        if self.state_file is not None:
            text = text.replace(FRESH_STATE_WORDS, f"delete the state file {self.state_file}")
        return text

    def hints(self, error: str) -> list[str]:
        """The command line's next steps for a failure whose message is ``error``: a server that
        could not be reached (the sandbox, stopped?) and a refused token (log in again)."""
        found = []
        base = (self.base_url or "").rstrip("/")
        if base and is_loopback_host(urlsplit(base).hostname or "") and f"Could not reach {base}" in error:
            found.append(f"hint: is the sandbox running there? Start one with `{PROG} sandbox --background`")
        if error.startswith(REFUSED_TOKEN) and any(refusal in error for refusal in REFUSALS):
            if self.credentials is not None:
                refused = "their OAuth refresh was" if "refresh" in error else "they were"
                found.append(
                    f"hint: the credentials in {self.credentials} cannot be used ({refused} refused): log in "
                    f"again with `{LOGIN} {self.credentials}`"
                )
            else:
                found.append(
                    f"hint: set {TOKEN_ENV} to a new access token, or log in with `{LOGIN} FILE` and pass "
                    "--credentials FILE"
                )
        return found
