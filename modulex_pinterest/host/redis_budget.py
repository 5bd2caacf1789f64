"""A rate budget in Redis, shared by workers on many machines.

It runs the same GCRA as :class:`~.budget.LocalRateBudget`, in one Lua script
per call on the Redis server's clock, so workers on machines whose clocks
disagree still share one rate. Built by :meth:`.redis_store.RedisStore.rate_budget`
on the store's connection pool.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import redis

from .budget import IDLE_AFTER, gcra_params
from .redis_store import _failure, _secrets_of

if TYPE_CHECKING:
    from redis.commands.core import Script

# Budget scripts: times in integer microseconds on the server's clock. Lua
# numbers are doubles (exact for integers below 2**53) and a number returned
# to the client is truncated to an integer, hence microseconds throughout;
# '%.0f' writes them without the exponent tostring() would use.
_BUDGET_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local allow = tonumber(redis.call('GET', KEYS[1])) or 0
local function store(value, idle_after)
  local ttl_ms = math.max(1, math.ceil((value - now + idle_after) / 1000))
  redis.call('SET', KEYS[1], string.format('%.0f', value), 'PX', string.format('%.0f', ttl_ms))
end
"""

RESERVE = (
    _BUDGET_PRELUDE
    + """
-- ARGV: interval, tau, max_wait, idle_after
allow = math.max(allow, now - tonumber(ARGV[2]))
local wait = math.max(0, allow - now)
if wait > tonumber(ARGV[3]) then return wait end
store(allow + tonumber(ARGV[1]), tonumber(ARGV[4]))
return wait
"""
)

PAUSE = (
    _BUDGET_PRELUDE
    + """
-- ARGV: seconds, idle_after
local until_ = now + tonumber(ARGV[1])
if until_ > allow then store(until_, tonumber(ARGV[2])) end
return 0
"""
)

_MAX_SECONDS = 1e9  # caps an infinite max_wait or pause to something Lua can hold exactly


class RedisRateBudget:
    """A :class:`~modulex_pinterest.contract.RateBudget` shared through Redis:
    the GCRA of :mod:`.budget`, atomic in one script, on the server's clock.

    State for ``key`` lives at ``{prefix}{key}`` (microseconds) and expires
    once idle, so unused keys vanish by themselves.
    """

    def __init__(self, client: redis.Redis, prefix: str = "modulex:budget:") -> None:
        self._client = client
        self._prefix = prefix
        self._hidden = _secrets_of(client)
        self._reserve = client.register_script(RESERVE)
        self._pause = client.register_script(PAUSE)

    def __repr__(self) -> str:
        return f"RedisRateBudget(prefix={self._prefix!r})"

    def _run(self, what: str, script: Script, key: str, args: list[int]) -> int:
        """Run a budget script on ``key``; its integer answer (microseconds)."""
        try:
            return int(script(keys=[self._prefix + key], args=args))
        except redis.exceptions.RedisError as error:
            raise _failure(f"{what} at Redis key {self._prefix + key!r}", error, self._hidden) from None

    def reserve(self, key: str, rate: float, max_wait: float) -> float:
        """Reserve one request at ``rate`` per second; the seconds to wait
        before sending it, or (reserving nothing) the wait that exceeded ``max_wait``."""
        interval, tau = gcra_params(rate)
        args = [
            max(1, round(interval * 1e6)),
            round(tau * 1e6),
            math.floor(min(max_wait, _MAX_SECONDS) * 1e6),
            round(IDLE_AFTER * 1e6),
        ]
        return self._run("reserve from the rate budget", self._reserve, key, args) / 1e6

    def pause(self, key: str, seconds: float) -> None:
        """Nobody sharing ``key`` sends for ``seconds``."""
        if not seconds > 0:
            return
        args = [math.ceil(min(seconds, _MAX_SECONDS) * 1e6), round(IDLE_AFTER * 1e6)]
        self._run("pause the rate budget", self._pause, key, args)
