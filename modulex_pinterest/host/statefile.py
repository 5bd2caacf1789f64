"""A trigger's state between polls, in a file the user names (a face's ``--state FILE``, a
Langflow poll node's state file).

Read when present (absent: the first poll, which primes); written only after a
successful poll, atomically (a temporary file in the same directory, flushed to
disk, then renamed over the old one) and readable by its owner alone (0600): a
poll interrupted at any point leaves the previous state or the new one, never
half of one. Mistakes are :class:`StateFileError` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

TEMPORARY_PREFIX = ".state-"
TURN_WAIT = 120.0  # seconds a poll waits while another poll of the same state file runs


class StateFileError(ValueError):
    """A state file that cannot be read or written; the message names it and says what to do."""


def refuse_constant(name: str) -> NoReturn:
    """``json.loads``'s ``parse_constant``: NaN and Infinity are not JSON (RFC 8259)."""
    raise ValueError(f"{name} is not a JSON value")


def read_state(path: str, max_bytes: int) -> dict[str, Any] | None:
    """The state stored at ``path``; ``None`` when there is no such file (the first poll).
    ``max_bytes``: the plugin's manifest's ``trigger_state_max_bytes``, the limit the hook applies too."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read the state file {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise StateFileError(f"the state file {path} is larger than {max_bytes} bytes: it is not a trigger's state")
    try:
        state = json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StateFileError(f"the state file {path} is not JSON: delete it to prime the trigger again") from None
    if not isinstance(state, dict):
        raise StateFileError(f"the state file {path} does not hold a JSON object: delete it to prime the trigger again")
    return state


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
    """Write ``state`` to a temporary file beside ``path`` (mode 0600), flushed to disk, where a full
    disk or a quota shows before anything is said about the poll; :class:`OSError` if that fails."""
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
    """Replace the state at ``path`` atomically, with mode 0600 (an ``OSError`` when it cannot)."""
    prepare_state(path, state).commit()


@contextmanager
def taking_turns(path: str, wait: float = TURN_WAIT) -> Iterator[None]:
    """Hold ``path``'s poll turn, from reading the state to storing the next one: an OS lock on
    ``FILE.lock`` (0600; a process that dies lets go), so two polls of one state file (two workers
    of a scheduled flow, a CLI run beside one) cannot both report an item. :class:`StateFileError`
    when the turn does not come within ``wait`` seconds or the lock cannot be made."""
    from filelock import FileLock, Timeout  # imported when first used, as the stores do

    lock = FileLock(f"{path}.lock", mode=0o600)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise StateFileError(f"another poll has held the state file {path} for {wait:g} s") from None
    except OSError as exc:
        raise StateFileError(f"cannot lock the state file {path} ({exc.strerror}: {path}.lock)") from None
    try:
        yield
    finally:
        lock.release()
