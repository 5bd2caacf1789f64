"""A rate budget shared by every process of one machine, without Redis.

Airflow runs every task in a process of its own, and CLI runs and an MCP
server are processes of their own too: a budget kept in memory lasts one of
them, and eight of them at the same rate send eight times that rate. This
budget keeps the GCRA state of :mod:`.budget` (same algorithm, same
parameters, same ceilings) in one small file per key, under an exclusive
``flock``, so every process of the machine shares one rate. It is the
reference host's default; a Redis store brings its own budget, shared by
every machine (:mod:`.redis_budget`).

**The clock** is ``time.monotonic()``: on Linux that is ``CLOCK_MONOTONIC``,
one clock for every process of the machine (not of the process), never
going back, unmoved by NTP steps or a changed wall clock; on macOS it is
``mach_absolute_time``, also machine-wide. It restarts at boot, so each file
records the kernel's boot id (``/proc/sys/kernel/random/boot_id``) and state
from another boot is ignored. Processes in different Linux time namespaces
see different monotonic clocks: give them different directories (or Redis).

**The files.** The directory is ``$MODULEX_PINTEREST_BUDGET_DIR``, else
``$XDG_RUNTIME_DIR/modulex-pinterest/budget``, else
``<tempdir>/modulex-pinterest-<uid>/budget`` (or the ``directory`` argument).
It must be a real directory owned by this user and writable by nobody else:
one in a shared ``/tmp`` made in advance by another user (to read or steer
the budget) or left group/world-writable is refused with an error naming it,
never used. Directories it creates are mode 0700, files 0600, opened with
``O_NOFOLLOW`` relative to the checked directory. A key's file is named by a
digest of the key (which itself names the grant by a digest, never a token)
and holds a few dozen bytes of JSON: the key's pause, ``allow`` per rate in
use (rates idle for :data:`.budget.IDLE_AFTER` are dropped on each write) and
the boot id. Memory and disk stay bounded: a process keeps at most
:data:`MAX_OPEN` files open, and about once every :data:`SWEEP_EVERY` seconds
removes key files whose state is idle (under the file's lock; a process
holding such a file open notices, after taking the lock, that the name now
points elsewhere or nowhere, and opens it again).

A forked child reopens its files (``flock`` locks belong to the open file,
which a fork shares). Where ``fcntl`` does not exist (Windows)
:func:`default_budget` gives the in-process :class:`~.budget.LocalRateBudget`
instead: there, each process keeps its own rate.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..contract import RateBudget
from .budget import IDLE_AFTER, MAX_PAUSE, LocalRateBudget, gcra_params, pause_seconds
from .errors import StoreError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

ENV_DIRECTORY = "MODULEX_PINTEREST_BUDGET_DIR"
SUFFIX = ".budget"
MAX_OPEN = 64
"""Key files a process keeps open (the least recently used is closed beyond it)."""
SWEEP_EVERY = 60.0
"""Seconds between two looks for idle key files, per process."""
LOCK_WAIT = 10.0
"""Seconds to wait for a key file's lock (held a few microseconds at a time) before failing: a
holder stopped mid-update (SIGSTOP, a debugger) must not hang every process of the machine."""
MAX_FILE = 64 * 1024  # a key file is a few dozen bytes; anything longer is not ours: start over
_NAME_LENGTH = 40  # hex digits of sha256 in a file name


class BudgetDirectoryError(StoreError):
    """The budget's directory is unsafe (someone else's, or writable by others) or unusable."""


def default_directory() -> Path:
    """Where the budget's files go unless the host names a directory (see the module docstring)."""
    named = os.environ.get(ENV_DIRECTORY, "").strip()
    if named:
        return Path(named)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "modulex-pinterest" / "budget"
    return Path(tempfile.gettempdir()) / f"modulex-pinterest-{os.getuid()}" / "budget"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return ""


def _check(path: Path | str, st: os.stat_result) -> None:
    """Refuse what another user could read or steer."""
    if not stat.S_ISDIR(st.st_mode):
        raise BudgetDirectoryError(f"the rate budget's directory {str(path)!r} is not a directory")
    if st.st_uid != os.geteuid():
        raise BudgetDirectoryError(
            f"the rate budget's directory {str(path)!r} belongs to another user (uid {st.st_uid}): refused; "
            f"set {ENV_DIRECTORY} to a directory of your own"
        )
    if st.st_mode & 0o022:
        raise BudgetDirectoryError(
            f"the rate budget's directory {str(path)!r} is writable by other users "
            f"(mode {stat.S_IMODE(st.st_mode):o}): refused; make it 0700 or set {ENV_DIRECTORY}"
        )


def open_directory(path: Path, create: tuple[Path, ...] = ()) -> int:
    """A file descriptor of ``path``, checked; the directories in ``create`` (parents
    first, ending with ``path``) are made 0700 if missing and checked without following links."""
    for part in create:
        try:
            os.mkdir(part, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise BudgetDirectoryError(f"cannot create the rate budget's directory {str(part)!r}: {exc}") from None
        _check(part, os.lstat(part))
    if not create:
        try:
            os.makedirs(path, 0o700, exist_ok=True)
        except OSError as exc:
            raise BudgetDirectoryError(f"cannot create the rate budget's directory {str(path)!r}: {exc}") from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (os.O_NOFOLLOW if create else 0))
    except OSError as exc:
        raise BudgetDirectoryError(f"cannot open the rate budget's directory {str(path)!r}: {exc}") from None
    try:
        _check(path, os.fstat(fd))
    except BudgetDirectoryError:
        os.close(fd)
        raise
    return fd


class _KeyFile:
    __slots__ = ("fd", "ino")

    def __init__(self, fd: int, ino: int) -> None:
        self.fd, self.ino = fd, ino


class MachineRateBudget:
    """A :class:`~modulex_pinterest.contract.RateBudget` shared by the processes of one machine:
    the GCRA of :mod:`.budget` in one ``flock``-ed file per key (see the module docstring)."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """:param directory: where the key files go (default: :func:`default_directory`);
        checked and created on first use, so a host can be built before it exists.
        :param clock: machine-wide seconds, never going back (injectable for tests)."""
        if fcntl is None:
            raise RuntimeError("MachineRateBudget needs fcntl (not on Windows): use LocalRateBudget")
        self._named = Path(directory) if directory is not None else None
        self._clock = clock
        self._boot = _boot_id()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._dir_fd: int | None = None
        self._files: dict[str, _KeyFile] = {}  # file name -> open file, least recently used first
        self._next_sweep = 0.0

    def __repr__(self) -> str:
        return f"MachineRateBudget(directory={str(self.directory)!r})"

    @property
    def directory(self) -> Path:
        return self._named if self._named is not None else default_directory()

    def reserve(self, key: str, rate: float, max_wait: float) -> float:
        """Reserve one request at ``rate`` per second; the seconds to wait
        before sending it, or (reserving nothing) the wait that exceeded ``max_wait``."""
        interval, tau = gcra_params(rate)
        slot = repr(float(rate))

        def update(state: dict[str, Any], now: float) -> tuple[float, bool]:
            allows = state["a"]
            allow = max(allows.get(slot, now - tau), now - tau, state["p"])
            wait = max(0.0, allow - now)
            if not wait <= max_wait:
                return wait, False
            allows[slot] = allow + interval
            return wait, True

        return self._locked(key, update)

    def pause(self, key: str, seconds: float) -> None:
        """Nobody on this machine sends on ``key`` for ``seconds`` (at most :data:`.budget.MAX_PAUSE`)."""
        seconds = pause_seconds(seconds)
        if not seconds:
            return

        def update(state: dict[str, Any], now: float) -> tuple[float, bool]:
            until = now + seconds
            if until <= state["p"]:
                return 0.0, False
            state["p"] = until
            return 0.0, True

        self._locked(key, update)

    # ----- the files ---------------------------------------------------------

    def _locked(self, key: str, update: Callable[[dict[str, Any], float], tuple[float, bool]]) -> float:
        """Run ``update`` on ``key``'s state under the file's lock; write it back if it changed."""
        if self._pid != os.getpid():  # a forked child: the parent's open files (and their locks) are not ours
            self._reset()
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:_NAME_LENGTH] + SUFFIX
        with self._lock:
            dir_fd = self._directory()
            for _ in range(3):
                keyfile = self._open(dir_fd, name)
                self._lock_file(keyfile.fd, name)
                try:
                    try:
                        current = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_ino
                    except FileNotFoundError:
                        current = None
                    if current != keyfile.ino:  # swept away since we opened it: open the one there is now
                        self._close(name)
                        continue
                    raw = os.pread(keyfile.fd, MAX_FILE, 0)
                    now = self._clock()
                    state = self._parse(raw, now)
                    result, changed = update(state, now)
                    if changed:
                        self._write(keyfile.fd, state, now, len(raw))
                finally:
                    fcntl.flock(keyfile.fd, fcntl.LOCK_UN)
                self._sweep(dir_fd, now)
                return result
        raise BudgetDirectoryError(f"the rate budget's file {name!r} in {str(self.directory)!r} keeps vanishing")

    def _lock_file(self, fd: int, name: str) -> None:
        """``flock`` the file exclusively, waiting at most :data:`LOCK_WAIT` seconds."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        deadline, pause = time.monotonic() + LOCK_WAIT, 0.0002
        while True:
            time.sleep(pause)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BudgetDirectoryError(
                        f"the rate budget's file {name!r} in {str(self.directory)!r} has been locked by "
                        f"another process for over {LOCK_WAIT:g} s (stopped mid-update?)"
                    ) from None
                pause = min(pause * 2, 0.01)

    def _directory(self) -> int:
        if self._dir_fd is None:
            if self._named is not None:
                self._dir_fd = open_directory(self._named)
            else:
                path = default_directory()
                named = bool(os.environ.get(ENV_DIRECTORY, "").strip())
                # Made here, under a shared parent (/tmp, $XDG_RUNTIME_DIR): each level checked unfollowed.
                self._dir_fd = open_directory(path) if named else open_directory(path, (path.parent, path))
        return self._dir_fd

    def _open(self, dir_fd: int, name: str) -> _KeyFile:
        keyfile = self._files.pop(name, None)
        if keyfile is None:
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
            except OSError as exc:
                raise BudgetDirectoryError(
                    f"cannot open the rate budget's file {name!r} in {str(self.directory)!r}: {exc}"
                ) from None
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                os.close(fd)
                raise BudgetDirectoryError(f"the rate budget's file {name!r} is not a file of this user's")
            keyfile = _KeyFile(fd, st.st_ino)
            while len(self._files) >= MAX_OPEN:
                self._close(next(iter(self._files)))
        self._files[name] = keyfile  # most recently used last
        return keyfile

    def _close(self, name: str) -> None:
        keyfile = self._files.pop(name, None)
        if keyfile is not None:
            os.close(keyfile.fd)

    def _parse(self, raw: bytes, now: float) -> dict[str, Any]:
        """The state in ``raw``, clamped: a pause at most :data:`.budget.MAX_PAUSE` ahead, only
        finite times, nothing from another boot. Anything unreadable is no state."""
        state: dict[str, Any] = {"p": 0.0, "a": {}}
        try:
            found = json.loads(raw) if raw else None
        except ValueError:
            return state
        if not isinstance(found, dict) or found.get("b") != self._boot:
            return state
        paused = found.get("p")
        if isinstance(paused, float) and math.isfinite(paused):
            state["p"] = min(paused, now + MAX_PAUSE)
        allows = found.get("a")
        if isinstance(allows, dict):
            state["a"] = {
                rate: allow
                for rate, allow in allows.items()
                if isinstance(allow, float) and math.isfinite(allow) and allow > now - IDLE_AFTER
            }
        return state

    def _write(self, fd: int, state: dict[str, Any], now: float, old_length: int) -> None:
        data = json.dumps({"b": self._boot, "p": float(state["p"]), "a": state["a"]}).encode()
        os.pwrite(fd, data, 0)
        if len(data) < old_length:
            os.ftruncate(fd, len(data))

    def _sweep(self, dir_fd: int, now: float) -> None:
        """Remove key files idle (nothing reserved or paused) for :data:`.budget.IDLE_AFTER`, at most
        every :data:`SWEEP_EVERY` seconds. Each is checked under its lock; a busy one is skipped."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        stale = time.time() - IDLE_AFTER - 1.0  # mtime is wall-clock: only a first filter
        try:
            entries = [e.name for e in os.scandir(dir_fd) if e.name.endswith(SUFFIX)]
        except OSError:
            return
        for name in entries:
            if name in self._files:
                continue
            try:
                fd = os.open(name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            except OSError:
                continue
            try:
                if os.fstat(fd).st_mtime > stale:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # in use right now
                state = self._parse(os.pread(fd, MAX_FILE, 0), self._clock())
                if state["p"] <= self._clock() and not state["a"]:
                    try:
                        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                            os.unlink(name, dir_fd=dir_fd)
                    except OSError:
                        pass
            finally:
                os.close(fd)  # releases the lock


def default_budget() -> RateBudget:
    """The reference host's budget: one per machine, or one per process where there is no ``fcntl``."""
    if fcntl is None:
        return LocalRateBudget()
    return MachineRateBudget()
