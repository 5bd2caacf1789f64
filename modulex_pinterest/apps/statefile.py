"""The ``poll`` command's ``--state FILE``: a trigger's state between polls.

Read when present (absent: the first poll, which primes); its folder checked
before the poll (:func:`check_folder`: a state that cannot be stored would make
every poll report the same events again); written only after a successful
poll, atomically and readable by its owner alone (0600), in two steps:
:func:`prepare_state` writes the new state to a temporary file in the same
folder and flushes it to disk (where a full disk or a quota shows), before the
answer is printed; :meth:`PendingState.commit` then renames it over the old
one. A poll interrupted at any point leaves the previous state or the new one,
never half of one.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ..host import statefile
from ..host.statefile import TEMPORARY_PREFIX, StateFileError, prepare_state
from .output import Failed, UsageError

__all__ = ["check_folder", "prepare_state", "read_state"]


def read_state(path: str, max_bytes: int) -> dict[str, Any] | None:
    """The state stored at ``path`` (:func:`~..host.statefile.read_state`); a file that is not a
    trigger's state is a :class:`UsageError` (the ``--state`` given is wrong)."""
    try:
        return statefile.read_state(path, max_bytes)
    except StateFileError as exc:
        raise UsageError(str(exc)) from None


def check_folder(path: str) -> None:
    """Before a poll: ``path`` can be written. A missing folder, or a folder in its place, is a
    :class:`UsageError` (the ``--state`` given is wrong); a folder where no file can be made (its
    permissions, a read-only disk) is :class:`Failed`: polling would be in vain."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(
            f"--state {path} is a folder: give a file's path in it (e.g. {os.path.join(path, 'state.json')})"
        )
    if not os.path.isdir(directory):
        raise UsageError(f"--state {path}: no such folder {directory}; create it first")
    try:
        fd, probe = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".tmp", dir=directory)
    except OSError as exc:
        raise Failed(
            f"cannot write the state file {path}: {exc.strerror} in {directory}; nothing was polled. "
            "Give --state a file in a folder you can write to"
        ) from None
    os.close(fd)
    os.unlink(probe)
