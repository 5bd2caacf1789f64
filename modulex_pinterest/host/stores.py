"""The reference host's credential stores on one machine: in memory and in a file.

Both implement :class:`~modulex_pinterest.contract.CredentialStore`: a lease
around a refresh and a compare-and-swap write, so that many threads (memory)
or many processes (file) sharing one OAuth grant refresh it once and never
lose a rotated refresh token. The Redis store, for many machines, is in
:mod:`modulex_pinterest.host.redis_store`.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..contract import Credentials
from .errors import StoreError
from .rescue import rescue
from .sealing import Sealer

if TYPE_CHECKING:  # imported when first used: redis is an optional extra, filelock costs 50 ms at start-up
    from filelock import FileLock

    from .redis_store import RedisStore

SAVE_LOCK_WAIT = 30.0  # seconds a plain save waits for a refresh in progress elsewhere


class MemoryStore:
    """Credentials held by one process: enough for a host whose workers are threads."""

    def __init__(self, credentials: Credentials | None = None, grant_id: str | None = None) -> None:
        self._credentials = credentials.copy() if credentials is not None else None
        self._lock = threading.Lock()
        self.grant_id = grant_id or f"memory:{id(self):x}"

    def __repr__(self) -> str:
        return f"MemoryStore({self.grant_id!r})"

    def read(self) -> Credentials | None:
        return self._credentials.copy() if self._credentials is not None else None

    def now(self) -> float:
        return time.time()

    @contextmanager
    def lease(self, ttl: float, wait: float) -> Iterator[bool]:
        held = self._lock.acquire(timeout=max(0.0, wait))
        try:
            yield held
        finally:
            if held:
                self._lock.release()

    def swap(self, presented_refresh_token: str, credentials: Credentials) -> bool:
        # Called by the lease holder; the lease is what serialises writers here.
        if (self._credentials or {}).get("refresh_token") != presented_refresh_token:
            return False
        self._credentials = credentials.copy()
        return True

    def save(self, credentials: Credentials) -> None:
        self._credentials = credentials.copy()


class CredentialsFile:
    """One JSON file, shared by every process on a machine that uses it.

    The lease is an OS lock on a lock file beside the credentials (through
    ``filelock``), held across "re-read, refresh, write"; a holder that dies
    releases it. Writes are atomic (a 0600 temporary file in the same folder,
    flushed, renamed over the old one), go through a symlink to its target
    instead of replacing the link, and a lease is granted only when the
    folder is writable, so a refresh never burns a refresh token it cannot
    store.
    """

    def __init__(self, path: str | os.PathLike[str], sealer: Sealer | None = None) -> None:
        """:param sealer: how credentials are sealed at rest (default: the key in the
        environment, if any; see :mod:`.sealing`)."""
        self.path = os.path.abspath(path)
        self.sealer = sealer if sealer is not None else Sealer.from_environment()
        self._held = threading.local()  # the lock this thread holds as lease, reused by swap()

    def __repr__(self) -> str:
        return f"CredentialsFile({self.path!r})"

    @property
    def target(self) -> str:
        """The file the credentials are written to (a symlink's target, resolved at each write)."""
        return os.path.realpath(self.path)

    @property
    def grant_id(self) -> str:
        return "file:" + self.target

    @property
    def location(self) -> str:
        """What ``--credentials`` takes to name this store."""
        return self.path

    def now(self) -> float:
        """This machine's clock: every process using the file shares it."""
        return time.time()

    def rescue(self, credentials: Credentials) -> str:
        """Keep credentials that could not be written here (see :func:`rescue`): beside the file, else elsewhere."""
        target = self.target
        return rescue(self.sealer.seal(credentials), os.path.basename(target), [os.path.dirname(target)])

    def read(self) -> Credentials | None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                stored = json.load(handle)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read credentials file {self.path}: {exc.strerror}") from None
        except ValueError:
            raise StoreError(f"credentials file {self.path} is not valid JSON") from None
        return self.sealer.open(stored, f"credentials file {self.path}")

    def _file_lock(self) -> FileLock:
        """The OS lock beside the target. (filelock's ``Timeout`` is a ``TimeoutError``, caught as such.)"""
        from filelock import FileLock

        return FileLock(self.target + ".lock", mode=0o600)

    def check_writable(self) -> None:
        """Create and remove a file in the target's folder: the only check that
        tells the truth for every user (``os.access`` says yes to root on a
        read-only mount)."""
        folder = os.path.dirname(self.target)
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".credentials-", suffix=".probe")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StoreError(
                f"cannot write to {folder} ({exc.strerror}): refreshed OAuth tokens could not be "
                "stored there, so the refresh was not attempted"
            ) from None

    @contextmanager
    def lease(self, ttl: float, wait: float) -> Iterator[bool]:
        self.check_writable()
        lock = self._file_lock()
        try:
            lock.acquire(timeout=max(0.0, wait), poll_interval=0.01)
        except TimeoutError:
            yield False
            return
        except OSError as exc:
            raise StoreError(f"cannot lock {self.target}.lock ({exc.strerror})") from None
        self._held.lock = lock
        try:
            yield True
        finally:
            self._held.lock = None
            lock.release()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The file lock for a write, unless this thread already holds it as its lease."""
        if getattr(self._held, "lock", None) is not None:
            yield
            return
        lock = self._file_lock()
        try:
            lock.acquire(timeout=SAVE_LOCK_WAIT, poll_interval=0.01)
        except TimeoutError:
            raise StoreError(f"{self.target}.lock stayed locked for {SAVE_LOCK_WAIT:g} s") from None
        except OSError as exc:
            raise StoreError(f"cannot lock {self.target}.lock ({exc.strerror})") from None
        try:
            yield
        finally:
            lock.release()

    def swap(self, presented_refresh_token: str, credentials: Credentials) -> bool:
        with self._locked():
            if (self.read() or {}).get("refresh_token") != presented_refresh_token:
                return False
            self._write(credentials)
            return True

    def save(self, credentials: Credentials) -> None:
        """Write unconditionally (a login or an import), under the same lock as a refresh."""
        with self._locked():
            self._write(credentials)

    def _write(self, credentials: Credentials) -> None:
        target = self.target
        try:
            fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".credentials-", suffix=".tmp")
        except OSError as exc:
            raise StoreError(f"cannot write to {os.path.dirname(target)} ({exc.strerror})") from None
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.sealer.seal(credentials), handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise


def open_store(spec: str) -> CredentialsFile | RedisStore:
    """A store from a command line's ``--credentials``: a file path, or
    ``redis://HOST:PORT/DB?key=KEY`` (needs ``pip install 'modulex-pinterest[redis]'``)."""
    if spec.startswith(("redis://", "rediss://", "unix://")):
        try:
            from .redis_store import RedisStore
        except ImportError:
            raise StoreError(
                "a redis:// credentials URL needs the redis client: pip install 'modulex-pinterest[redis]'"
            ) from None
        return RedisStore(spec)
    return CredentialsFile(spec)


def holding_credentials(store: CredentialsFile | RedisStore) -> CredentialsFile | RedisStore:
    """``store``, or :class:`StoreError` when it holds no credentials yet (a face that only uses a
    grant cannot start one: ``auth login`` or ``auth import`` writes it first)."""
    if store.read() is None:
        raise StoreError(
            f"no credentials stored at {store.location}: write them with `modulex-pinterest auth login` "
            "or `auth import`"
        )
    return store
