"""Close a connection whose answer outlasts the action's deadline.

A read timeout bounds each socket read, not the answer: a server that sends
one byte of status line or headers every half second never trips it, and
``http.client`` reads the status line and headers before the client sees
anything. So the session's connections register their socket here when they
start reading an answer (:class:`WatchedHTTPAdapter`), with the deadline the
client set for this thread (:func:`deadline_for_this_thread`), and one daemon
thread shuts down the socket of any answer still being read at its deadline:
the blocked read then fails at once, and the client reports a timeout. The
``video_url`` download's session uses the same connections (:mod:`.netguard`)
and keeps its block open while its body is read during the upload.

A socket shut down mid-headers reads as their end to ``http.client``, which
then returns an answer with headers missing: a caller checks ``Watch.fired``
before trusting an answer, not only when reading it failed.

Cost per request: one heap push and one flag under a lock (microseconds); the
thread sleeps until the earliest deadline.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


@dataclass(order=True)
class Watch:
    """One answer being read: its deadline, and whether the watchdog closed it."""

    deadline: float
    order: int
    sock: socket.socket | None = field(compare=False, default=None)
    fired: bool = field(compare=False, default=False)


class Watchdog:
    def __init__(self) -> None:
        self._heap: list[Watch] = []
        self._wake = threading.Condition()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> Watch:
        entry = Watch(deadline, next(self._order), sock)
        with self._wake:
            heapq.heappush(self._heap, entry)
            if self._thread is None or not self._thread.is_alive():  # none yet, or a forked child
                self._thread = threading.Thread(target=self._run, name="modulex-pinterest-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:
                self._wake.notify()
        return entry

    def release(self, entry: Watch) -> bool:
        """Stop watching; True if the watchdog had already closed the connection."""
        with self._wake:
            entry.sock = None
            return entry.fired

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0].sock is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                delay = self._heap[0].deadline - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                entry = heapq.heappop(self._heap)
                sock, entry.sock, entry.fired = entry.sock, None, True
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]  # not None: checked above
                except OSError:
                    pass


WATCHDOG = Watchdog()
_thread_state = threading.local()


@contextmanager
def deadline_for_this_thread(deadline: float) -> Iterator[list[Watch]]:
    """While the block runs, answers read on this thread are closed at ``deadline``;
    an answer stays watched until the block ends, so its body is bounded too.

    Yields a list that holds the watches of the answers read in the block, so
    the caller can tell a closed connection from a broken one. Blocks nest:
    the outer block's deadline applies again after an inner one (a download
    whose body is read while the client sends other requests stays watched).
    """
    watches: list[Watch] = []
    outer = getattr(_thread_state, "deadline", None), getattr(_thread_state, "watches", None)
    _thread_state.deadline, _thread_state.watches = deadline, watches
    try:
        yield watches
    finally:
        _thread_state.deadline, _thread_state.watches = outer
        for entry in watches:
            WATCHDOG.release(entry)


class _WatchedConnection:
    """A urllib3 connection that puts its socket under the watchdog while it reads an answer."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_thread_state, "deadline", None)
        if deadline is not None and self.sock is not None:
            _thread_state.watches.append(WATCHDOG.watch(self.sock, deadline))
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]  # the urllib3 class it is mixed into


class WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class WatchedHTTPAdapter(HTTPAdapter):
    """requests' adapter with connections that the watchdog can close."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
