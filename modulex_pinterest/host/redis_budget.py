"""A rate budget in Redis, shared by workers on many machines.

It runs the same GCRA as :class:`~.budget.LocalRateBudget` (see :mod:`.budget`
for the algorithm, its headroom and its ceilings), in one Lua script per call
on the Redis server's clock, so workers on machines whose clocks disagree
still share one rate. Built by :meth:`.redis_store.RedisStore.rate_budget` on
the store's connection pool.

Keys: a pause for ``key`` lives at ``{prefix}{key}``, the reservations at one
rate at ``{prefix}{key}@{rate}`` (:func:`.budget.rate_key`), both as integer
microseconds on the server's clock, both expiring once idle. The scripts clamp
every pause to :data:`.budget.MAX_PAUSE` themselves, on what they are given
and on what they read (a key written by an older version that paused for
years is read as a pause of at most the ceiling), whatever the client asks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import redis

from .budget import IDLE_AFTER, MAX_PAUSE, gcra_params, pause_seconds, rate_key
from .errors import redis_failure, redis_password_forms

if TYPE_CHECKING:
    from redis.commands.core import Script

# Budget scripts: times in integer microseconds on the server's clock. Lua
# numbers are doubles (exact for integers below 2**53) and a number returned
# to the client is truncated to an integer, hence microseconds throughout;
# '%.0f' writes them without the exponent tostring() would use.
_BUDGET_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ceiling = CEILING
local function store(key, value, idle_after)
  local ttl_ms = math.max(1, math.ceil((value - now + idle_after) / 1000))
  redis.call('SET', key, string.format('%.0f', value), 'PX', string.format('%.0f', ttl_ms))
end
""".replace("CEILING", str(round(MAX_PAUSE * 1e6)))

RESERVE = (
    _BUDGET_PRELUDE
    + """
-- KEYS: the pause, the reservations at this rate. ARGV: interval, tau, max_wait, idle_after
local got = redis.call('MGET', KEYS[1], KEYS[2])
local paused = math.min(tonumber(got[1]) or 0, now + ceiling)
local allow = math.max(tonumber(got[2]) or 0, now - tonumber(ARGV[2]), paused)
local wait = math.max(0, allow - now)
if wait > tonumber(ARGV[3]) then return wait end
store(KEYS[2], allow + tonumber(ARGV[1]), tonumber(ARGV[4]))
return wait
"""
)

PAUSE = (
    _BUDGET_PRELUDE
    + """
-- KEYS: the pause. ARGV: seconds (clamped to the ceiling here too)
local paused = math.min(tonumber(redis.call('GET', KEYS[1])) or 0, now + ceiling)
local until_ = now + math.min(math.max(0, tonumber(ARGV[1])), ceiling)
if until_ > paused then store(KEYS[1], until_, 0) end
return 0
"""
)

_MAX_SECONDS = 1e9  # caps an infinite max_wait to something Lua can hold exactly


class RedisRateBudget:
    """A :class:`~modulex_pinterest.contract.RateBudget` shared through Redis:
    the GCRA of :mod:`.budget`, atomic in one script, on the server's clock.
    """

    def __init__(self, client: redis.Redis, prefix: str = "modulex:budget:") -> None:
        self._client = client
        self._prefix = prefix
        self._hidden = redis_password_forms(client)
        self._reserve = client.register_script(RESERVE)
        self._pause = client.register_script(PAUSE)
        self._params: dict[float, tuple[str, list[int]]] = {}  # rate -> (key suffix, script args)

    def __repr__(self) -> str:
        return f"RedisRateBudget(prefix={self._prefix!r})"

    def _run(self, what: str, script: Script, keys: list[str], args: list[int]) -> int:
        """Run a budget script on ``keys``; its integer answer (microseconds)."""
        try:
            return int(script(keys=keys, args=args))
        except redis.exceptions.RedisError as error:
            raise redis_failure(f"{what} at Redis key {keys[0]!r}", error, self._hidden) from None

    def _args(self, rate: float) -> tuple[str, list[int]]:
        """The reservation key's suffix and the script's interval, tau and idle time at ``rate``."""
        found = self._params.get(rate)
        if found is None:
            interval, tau = gcra_params(rate)
            suffix = rate_key("", rate)
            args = [max(1, round(interval * 1e6)), round(tau * 1e6), round(IDLE_AFTER * 1e6)]
            found = self._params[rate] = (suffix, args)
            if len(self._params) > 64:  # a few rates in practice: keep it bounded anyway
                self._params = {rate: found}
        return found

    def reserve(self, key: str, rate: float, max_wait: float) -> float:
        """Reserve one request at ``rate`` per second; the seconds to wait
        before sending it, or (reserving nothing) the wait that exceeded ``max_wait``."""
        suffix, (interval, tau, idle) = self._args(rate)
        limit = math.floor(min(max_wait, _MAX_SECONDS) * 1e6) if max_wait == max_wait else 0
        keys = [self._prefix + key, self._prefix + key + suffix]
        return self._run("reserve from the rate budget", self._reserve, keys, [interval, tau, limit, idle]) / 1e6

    def pause(self, key: str, seconds: float) -> None:
        """Nobody sharing ``key`` sends for ``seconds`` (at most :data:`.budget.MAX_PAUSE`)."""
        seconds = pause_seconds(seconds)
        if not seconds:
            return
        self._run("pause the rate budget", self._pause, [self._prefix + key], [math.ceil(seconds * 1e6)])
