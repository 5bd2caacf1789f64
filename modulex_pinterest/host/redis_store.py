"""Credentials and a rate budget in Redis, shared by workers on many machines.

Pinterest rotates refresh tokens and presenting a rotated one revokes the
grant, so every worker refreshes by one protocol (see
:class:`~modulex_pinterest.contract.CredentialStore`): a lease (``SET NX PX``
with a random owner, released by a Lua compare-and-delete) saves duplicate
refreshes, and a Lua compare-and-swap on the stored refresh token keeps the
store correct when a lease holder stalls past its lease.

The store's rate budget is in :mod:`.redis_budget`, on the same connection pool.

Needs the optional ``redis`` extra and Redis 5 or later (scripts that read
``TIME`` and then write). Only this module imports ``redis``.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from ..contract import Credentials
from .errors import StoreError

if TYPE_CHECKING:
    from .redis_budget import RedisRateBudget

log = logging.getLogger(__name__)

SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 3.0
RETRIES = 2
"""redis-py's default (10 retries with backoff, each up to a timeout) would
hold a worker for most of a minute when Redis is unreachable; fail sooner."""

SWAP = """
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local ok, current = pcall(cjson.decode, stored)
if not ok or type(current) ~= 'table' then
  return redis.error_reply('the stored credentials are not a JSON object')
end
if current['refresh_token'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def parse_redis_url(url: str) -> tuple[str, str]:
    """Split ``redis://[[user]:password@]host:port/db?key=KEY`` (or ``rediss://``,
    ``unix://``) into the URL redis-py accepts and ``KEY``, the Redis key that
    holds the credentials.

    redis-py passes unknown query parameters on to the connection, which
    rejects them, so ``key`` is taken out and every other parameter kept.
    Messages never repeat the URL: it may hold a password.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError("a Redis store URL starts with redis://, rediss:// or unix://")
    try:
        parts.port  # noqa: B018 (urllib checks the port here, and its message would quote it)
    except ValueError:
        raise ValueError(
            "a Redis store URL needs host:port after the '@'; percent-encode any "
            "'/', '@', ':' or '?' in the password (for example '/' as %2F)"
        ) from None
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = [value for name, value in query if name == "key"]
    if len(keys) != 1 or not keys[0]:
        raise ValueError(
            "a Redis store URL names the key that holds the credentials once, "
            "with ?key=NAME (for example redis://host:6379/0?key=modulex:pinterest)"
        )
    rest = urlencode([(name, value) for name, value in query if name != "key"])
    return urlunsplit(parts._replace(query=rest)), keys[0]


def _secrets_of(client: redis.Redis) -> tuple[str, ...]:
    """The client's password, as given and URL-quoted, to scrub from messages."""
    pool = getattr(client, "connection_pool", None)
    password = (getattr(pool, "connection_kwargs", None) or {}).get("password")
    return (password, quote(password, safe="")) if password else ()


def _failure(what: str, error: Exception, hidden: tuple[str, ...]) -> StoreError:
    """A :class:`StoreError` saying what failed and why, with no secret in it."""
    detail = f"{type(error).__name__}: {error}"
    for secret in hidden:
        detail = detail.replace(secret, "***")
    return StoreError(f"could not {what} ({detail})")


class RedisStore:
    """A :class:`~modulex_pinterest.contract.CredentialStore`: one grant's
    credentials as one JSON string at one Redis key, with its refresh lease at
    ``KEY:lease``.

    Building one does not connect; each store keeps one client (one pool of
    connections), so build one per grant and process and reuse it.
    """

    def __init__(self, url: str, *, client: redis.Redis | None = None) -> None:
        """:param url: ``redis://[[user]:password@]host:port/db?key=KEY``.
        :param client: a ready client to use instead of one built from ``url``
            (``url`` still names the key)."""
        base, self.key = parse_redis_url(url)
        self.grant_id = f"redis:{self.key}"
        self._lease_key = f"{self.key}:lease"
        if client is None:
            client = redis.Redis.from_url(
                base,
                decode_responses=True,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=CONNECT_TIMEOUT,
                retry=Retry(ExponentialWithJitterBackoff(cap=0.25, base=0.01), RETRIES),
            )
        self._client = client
        self._hidden = _secrets_of(client)
        self._swap = client.register_script(SWAP)
        self._release = client.register_script(RELEASE)

    def __repr__(self) -> str:
        return f"RedisStore(key={self.key!r})"

    def _call(self, what: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``, its Redis errors turned into a :class:`StoreError` with no secret."""
        try:
            return function(*args, **kwargs)
        except redis.exceptions.RedisError as error:
            raise _failure(f"{what} at Redis key {self.key!r}", error, self._hidden) from None

    def read(self) -> Credentials | None:
        """The stored credentials, or ``None`` when the key does not exist."""
        raw = self._call("read the credentials", self._client.get, self.key)
        if raw is None:
            return None
        try:
            credentials = json.loads(raw)
        except ValueError:
            credentials = None
        if not isinstance(credentials, dict):
            raise StoreError(f"Redis key {self.key!r} holds something that is not a JSON object of credentials")
        return cast(Credentials, credentials)  # a JSON object: the plugin checks each field it uses

    def save(self, credentials: Credentials) -> None:
        """Store ``credentials`` whatever is there (a login or an import, not a refresh)."""
        self._call("save the credentials", self._client.set, self.key, json.dumps(credentials))

    def swap(self, presented_refresh_token: str, credentials: Credentials) -> bool:
        """Store ``credentials`` only if the stored refresh token is still
        ``presented_refresh_token``, atomically on the server; whether they were stored."""
        stored = self._call(
            "swap in refreshed credentials",
            self._swap,
            keys=[self.key],
            args=[presented_refresh_token, json.dumps(credentials)],
        )
        return bool(stored)

    @contextmanager
    def lease(self, ttl: float, wait: float) -> Iterator[bool]:
        """Hold the refresh lease for at most ``ttl`` seconds; enters ``False``
        if another holder kept it past ``wait`` seconds.

        Polls every 5 ms, growing to 50 ms, never past the deadline. Releasing
        deletes the lease only if it is still ours: once ``ttl`` has passed
        another worker may hold it. A failed release is logged, not raised: the
        lease expires by itself, and the work done under it already counts.
        """
        owner = secrets.token_hex(16)
        ttl_ms = max(1, math.ceil(ttl * 1000))
        deadline = time.monotonic() + max(0.0, wait)
        interval = 0.005
        while not self._call("take the refresh lease", self._client.set, self._lease_key, owner, nx=True, px=ttl_ms):
            left = deadline - time.monotonic()
            if left <= 0:
                yield False
                return
            time.sleep(min(interval, left))
            interval = min(2 * interval, 0.05)
        try:
            yield True
        finally:
            try:
                self._call("release the refresh lease", self._release, keys=[self._lease_key], args=[owner])
            except StoreError as error:
                log.warning("%s; it expires by itself within %.1f s", error, ttl)

    def rate_budget(self, prefix: str = "modulex:budget:") -> RedisRateBudget:
        """A :class:`~.redis_budget.RedisRateBudget` on this store's connection pool."""
        from .redis_budget import RedisRateBudget

        return RedisRateBudget(self._client, prefix)
