"""Where credentials go when their store cannot take them.

A refresh's new tokens must land somewhere: the refresh token Pinterest just
issued is the only one left that works. Both reference stores call
:func:`rescue` when a write fails after the token endpoint answered, and
``modulex-pinterest auth import FILE --credentials STORE`` puts them back.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from typing import Any

from ..contract import Credentials
from .errors import StoreError

RESCUE_DIR_VARIABLE = "MODULEX_PINTEREST_RESCUE_DIR"


def rescue_folder() -> str:
    """Where credentials a store could not write are kept when nowhere better
    is writable: ``$MODULEX_PINTEREST_RESCUE_DIR``, else the user's state folder
    (``$XDG_STATE_HOME``, else ``~/.local/state``) under ``modulex-pinterest/rescued``."""
    named = os.environ.get(RESCUE_DIR_VARIABLE)
    if named:
        return named
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "modulex-pinterest", "rescued")


def rescue(credentials: Credentials | dict[str, Any], name: str, folders: list[str]) -> str:
    """Write ``credentials`` to a new 0600 file ``NAME.rescued-TIME-RANDOM.json`` in
    the first of ``folders`` (then :func:`rescue_folder`) that takes it; its path.

    ``credentials`` come sealed when the store seals (:mod:`.sealing`).
    Used when a refresh's new tokens could not be stored: the refresh token
    Pinterest just issued is the only one left that works, so it must land on
    disk somewhere, and ``auth import`` that file puts it back.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    failures = []
    for folder in [*folders, rescue_folder()]:
        path = os.path.join(folder, f"{name}.rescued-{stamp}-{secrets.token_hex(3)}.json")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            failures.append(f"{folder}: {exc.strerror}")
            continue
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(credentials, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            return path
        except OSError as exc:
            failures.append(f"{folder}: {exc.strerror}")
            try:
                os.unlink(path)
            except OSError:
                pass
    raise StoreError("could not write a rescue file (" + "; ".join(failures) + ")")
