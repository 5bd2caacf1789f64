"""Rate budgets: how fast the workers sharing one grant may call Pinterest.

Both budgets (this in-process one and the Redis one in ``redis_store``) use the
generic cell rate algorithm (GCRA) with the same parameters from
:func:`gcra_params`, so a host can swap one for the other without changing how
requests are spaced.

GCRA keeps one number per key. The textbook keeps the "theoretical arrival
time" ``tat``; a request may go at ``tat - tau``. We store ``allow = tat - tau``
instead, the earliest time the next request may go, because
:meth:`RateBudget.pause` is not told the rate (and so not ``tau``): with
``allow`` stored, "nobody sends for ``seconds``" is ``allow = max(allow,
now + seconds)`` whatever the rate. It is the same algorithm:

* reserve: ``allow = max(allow, now - tau)``; ``wait = allow - now`` (at least
  0); if ``wait > max_wait`` nothing is reserved, else ``allow += T``.
* pause: ``allow = max(allow, now + seconds)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

IDLE_AFTER = 1.0
"""Seconds after which a key's state equals having none (``allow`` is so far
in the past that ``max(allow, now - tau)`` is ``now - tau``). Holds because
:func:`burst_of` keeps ``tau`` under 0.1 s; both budgets forget keys after it."""


def burst_of(rate: float) -> int:
    """How many requests may go back to back at ``rate`` requests per second.

    A tenth of a second's worth, at least one: enough to absorb scheduling
    jitter without ever sending a burst Pinterest would see as a spike, and it
    keeps ``tau`` (see :func:`gcra_params`) under 0.1 s for every rate.
    """
    return max(1, int(rate // 10))


def gcra_params(rate: float) -> tuple[float, float]:
    """``(T, tau)`` in seconds for ``rate``: the emission interval ``T = 1 /
    rate`` and the burst tolerance ``tau = (burst - 1) * T``."""
    if not rate > 0:
        raise ValueError(f"a rate budget needs a positive rate, not {rate!r}")
    interval = 1.0 / rate
    return interval, (burst_of(rate) - 1) * interval


class LocalRateBudget:
    """A :class:`~modulex_pinterest.contract.RateBudget` for the threads of one process.

    Only right when one process sends every request of a grant: workers in
    other processes each keep their own budget, and the rate multiplies. Use
    the Redis budget when workers share a grant across processes.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        """:param clock: seconds, never going back (injectable for tests).
        :param max_keys: above this many keys, idle ones are forgotten."""
        self._clock = clock
        self._max_keys = max_keys
        self._prune_above = max_keys
        self._lock = threading.Lock()
        self._allow: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"LocalRateBudget(keys={len(self._allow)})"

    def reserve(self, key: str, rate: float, max_wait: float) -> float:
        """Reserve one request at ``rate`` per second; the seconds to wait
        before sending it, or (reserving nothing) the wait that exceeded ``max_wait``."""
        interval, tau = gcra_params(rate)
        with self._lock:
            now = self._clock()
            allow = max(self._allow.get(key, now - tau), now - tau)
            wait = max(0.0, allow - now)
            if wait > max_wait:
                return wait
            self._allow[key] = allow + interval
            self._forget_idle(now)
            return wait

    def pause(self, key: str, seconds: float) -> None:
        """Nobody using this budget sends on ``key`` for ``seconds``."""
        if not seconds > 0:
            return
        with self._lock:
            now = self._clock()
            self._allow[key] = max(self._allow.get(key, now), now + seconds)
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        """Keep memory bounded: past the limit, drop keys idle for
        :data:`IDLE_AFTER` (dropping them changes no answer). If most keys are
        busy, wait until the table doubles before scanning again, so a large
        busy table does not cost a full scan per request."""
        if len(self._allow) <= self._prune_above:
            return
        horizon = now - IDLE_AFTER
        self._allow = {key: allow for key, allow in self._allow.items() if allow > horizon}
        self._prune_above = max(self._max_keys, 2 * len(self._allow))
