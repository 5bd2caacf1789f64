"""Rate budgets: how fast the workers sharing one grant may call Pinterest.

Three budgets implement :class:`~modulex_pinterest.contract.RateBudget` with
the same algorithm and the same parameters (:func:`gcra_params`), so a host
can swap one for another without changing how requests are spaced:
:class:`LocalRateBudget` (this module: the threads of one process),
:class:`~.machine_budget.MachineRateBudget` (the processes of one machine,
through small locked files; the reference host's default) and
:class:`~.redis_budget.RedisRateBudget` (every machine, through Redis).

**The algorithm** is the generic cell rate algorithm (GCRA). Each key holds
``allow``, the earliest time the next request may go (the textbook's
"theoretical arrival time" minus ``tau``):

* reserve: ``allow = max(allow, now - tau, paused_until)``; ``wait = allow -
  now`` (at least 0); if ``wait > max_wait`` nothing is reserved, else
  ``allow += T``. The request goes at ``now + wait``.
* pause: ``paused_until = max(paused_until, now + min(seconds, MAX_PAUSE))``.

**Whose state is shared.** A reservation's ``allow`` is kept per key *and
rate*; a pause per key, for every rate. Workers of one connection share its
``rate_limit`` and so one ``allow``; a worker run with another rate (``--rate-limit
0.001``, say) spaces its own requests without pushing anyone else's: were the
state shared across rates, its one reservation would add its ``T`` (1000 s)
to everybody's ``allow``. What a server says (a 429, ``X-RateLimit-Remaining:
0``) is about the grant, so a pause holds every rate back. Workers of one
grant at different rates each keep their own rate; their sum is the user's
to choose, and the server's 429 pauses them all.

**No 429 at the limit.** A server allowing ``rate`` requests "in any second"
counts every sliding window of one second. GCRA with interval ``T`` and
tolerance ``tau = (b - 1) * T`` (a burst of ``b``) lets ``n`` requests go at
``s_1 <= ... <= s_n`` only if ``s_n - s_1 >= (n - 1) * T - tau = (n - b) * T``.
They reach the server after a delay that varies by up to ``J`` (scheduling,
a sleep's overshoot, the network), so ``n`` of them fall into one server
second only if ``s_n - s_1 < 1 + J``, that is ``n < b + (1 + J) / T``. With

    ``T = (1 + J) / (rate + 1 - b)``

that is ``n < rate + 1``: never more than ``rate`` in any second, the burst
included. (The old ``T = 1 / rate`` let ``rate + b - 1`` through, plus
jitter: 12 to 22 x 429 in 480 requests at a server's exact limit.) The
sustained rate is ``(rate + 1 - b) / (1 + J)``: with ``J`` =
:data:`ARRIVAL_JITTER` (50 ms) and ``b = max(1, rate // 20)``, 19.0 per second
at 20, 91.4 at 100, about 0.91 of ``rate`` above that; the headroom is what
keeps a budget set to the server's exact limit free of 429s.

**Pauses are bounded**: no pause lasts longer than :data:`MAX_PAUSE`, whatever
a server's ``Retry-After`` says (the plugin bounds it by ``max_retry_wait``
too; every budget clamps again, and clamps what it reads, so a pause stored by
an older version or a bad clock cannot outlive the ceiling).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_PAUSE = 300.0
"""The longest pause any budget takes, in seconds (a daily limit's hour-long
``Retry-After`` fails the action at once, saying when to retry: it does not
stop every worker for that long)."""

ARRIVAL_JITTER = 0.05
"""Seconds by which requests may reach the server later than their slot
(``J`` above): the headroom under a server's exact limit."""

BURST_SECONDS = 0.05
"""The burst ``b`` is this many seconds' worth of requests, at least one."""

IDLE_AFTER = 1.0
"""Seconds after which a rate's ``allow`` equals having none (``allow`` is so
far in the past that ``max(allow, now - tau)`` is ``now - tau``). Holds because
``tau`` stays under :data:`BURST_SECONDS`; every budget forgets such state."""


def burst_of(rate: float) -> int:
    """How many requests may go back to back at ``rate`` requests per second:
    :data:`BURST_SECONDS`' worth, at least one (``b`` in the module's math)."""
    return max(1, int(rate * BURST_SECONDS))


def gcra_params(rate: float) -> tuple[float, float]:
    """``(T, tau)`` in seconds for ``rate``: the emission interval ``T = (1 + J)
    / (rate + 1 - b)`` and the burst tolerance ``tau = (b - 1) * T`` (see the
    module docstring: never more than ``rate`` requests in any second)."""
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"a rate budget needs a positive, finite rate, not {rate!r}")
    burst = burst_of(rate)
    interval = (1.0 + ARRIVAL_JITTER) / (rate + 1 - burst)
    return interval, (burst - 1) * interval


def pause_seconds(seconds: float) -> float:
    """``seconds`` as a pause may last: at most :data:`MAX_PAUSE`; 0 for
    anything not a positive number (NaN included)."""
    if not seconds > 0:
        return 0.0
    return min(float(seconds), MAX_PAUSE)


def rate_key(key: str, rate: float) -> str:
    """Where ``key``'s reservations at ``rate`` are kept (pauses are kept at ``key``)."""
    return f"{key}@{float(rate)!r}"


class LocalRateBudget:
    """A :class:`~modulex_pinterest.contract.RateBudget` for the threads of one process.

    Only right when one process sends every request of a grant: workers in
    other processes each keep their own budget, and the rate multiplies. The
    reference host uses :class:`~.machine_budget.MachineRateBudget` (every
    process of the machine) unless the platform has no ``fcntl`` (Windows),
    and the Redis budget with a Redis store (every machine).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        """:param clock: seconds, never going back (injectable for tests).
        :param max_keys: above this many keys, idle ones are forgotten."""
        self._clock = clock
        self._max_keys = max_keys
        self._prune_above = max_keys
        self._lock = threading.Lock()
        self._allow: dict[str, float] = {}  # rate_key(key, rate) -> allow
        self._paused: dict[str, float] = {}  # key -> paused until

    def __repr__(self) -> str:
        return f"LocalRateBudget(keys={len(self._allow) + len(self._paused)})"

    def reserve(self, key: str, rate: float, max_wait: float) -> float:
        """Reserve one request at ``rate`` per second; the seconds to wait
        before sending it, or (reserving nothing) the wait that exceeded ``max_wait``."""
        interval, tau = gcra_params(rate)
        slot = rate_key(key, rate)
        with self._lock:
            now = self._clock()
            paused = min(self._paused.get(key, -math.inf), now + MAX_PAUSE)
            allow = max(self._allow.get(slot, now - tau), now - tau, paused)
            wait = max(0.0, allow - now)
            if not wait <= max_wait:
                return wait
            self._allow[slot] = allow + interval
            self._forget_idle(now)
            return wait

    def pause(self, key: str, seconds: float) -> None:
        """Nobody using this budget sends on ``key`` for ``seconds`` (at most :data:`MAX_PAUSE`)."""
        seconds = pause_seconds(seconds)
        if not seconds:
            return
        with self._lock:
            now = self._clock()
            self._paused[key] = max(min(self._paused.get(key, now), now + MAX_PAUSE), now + seconds)
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        """Keep memory bounded: past the limit, drop state idle for
        :data:`IDLE_AFTER` (dropping it changes no answer). If most keys are
        busy, wait until the tables double before scanning again, so a large
        busy table does not cost a full scan per request."""
        if len(self._allow) + len(self._paused) <= self._prune_above:
            return
        horizon = now - IDLE_AFTER
        self._allow = {key: allow for key, allow in self._allow.items() if allow > horizon}
        self._paused = {key: until for key, until in self._paused.items() if until > now}
        self._prune_above = max(self._max_keys, 2 * (len(self._allow) + len(self._paused)))
