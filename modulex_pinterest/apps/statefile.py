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

import json
import os
import tempfile
from typing import Any

from .output import Failed, UsageError, refuse_constant

TEMPORARY_PREFIX = ".state-"


def read_state(path: str, max_bytes: int) -> dict[str, Any] | None:
    """The state stored at ``path``; ``None`` when there is no such file (the first poll).
    ``max_bytes``: the plugin's manifest's ``trigger_state_max_bytes``, the limit the hook applies too."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read the state file {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise UsageError(f"the state file {path} is larger than {max_bytes} bytes: it is not a trigger's state")
    try:
        state = json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UsageError(f"the state file {path} is not JSON: delete it to prime the trigger again") from None
    if not isinstance(state, dict):
        raise UsageError(f"the state file {path} does not hold a JSON object: delete it to prime the trigger again")
    return state


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


class PendingState:
    """A new state written and flushed to a temporary file beside ``path``, not yet in place."""

    def __init__(self, path: str, temporary: str) -> None:
        self.path = path
        self._temporary: str | None = temporary

    def commit(self) -> None:
        """Rename the new state over the old one (atomically); :class:`OSError` if that fails."""
        assert self._temporary is not None, "committed or discarded already"
        try:
            os.replace(self._temporary, self.path)
        except BaseException:
            self.discard()
            raise
        self._temporary = None

    def discard(self) -> None:
        """Remove the temporary file (the old state stays)."""
        if self._temporary is not None:
            try:
                os.unlink(self._temporary)
            except OSError:
                pass
            self._temporary = None


def prepare_state(path: str, state: dict[str, Any]) -> PendingState:
    """Write ``state`` to a temporary file beside ``path`` (mode 0600), flushed to disk;
    :class:`OSError` if that fails (a full disk, a quota, a folder made read-only since the check)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(state, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return PendingState(path, temporary)


def write_state(path: str, state: dict[str, Any]) -> None:
    """Replace the state at ``path`` atomically, with mode 0600 (:class:`OSError` if it cannot be)."""
    prepare_state(path, state).commit()
