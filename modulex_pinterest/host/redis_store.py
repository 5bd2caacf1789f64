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
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from ..contract import Credentials
from .errors import StoreError, redis_failure, redis_password_forms
from .rescue import rescue
from .sealing import Sealer, refresh_mark

if TYPE_CHECKING:
    from .redis_budget import RedisRateBudget

log = logging.getLogger(__name__)

SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 3.0
RETRIES = 2
CLOCK_CHECK = 60.0  # seconds between two readings of the server's clock (see RedisStore.now)
"""redis-py's default (10 retries with backoff, each up to a timeout) would
hold a worker for most of a minute when Redis is unreachable; fail sooner."""

# ARGV[1]: the SHA-1 of the presented refresh token (the token itself never travels):
# compared with a sealed value's refresh_mark, or with the SHA-1 of a plain value's token.
SWAP = """
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local ok, current = pcall(cjson.decode, stored)
if not ok or type(current) ~= 'table' then
  return redis.error_reply('the stored credentials are not a JSON object')
end
local mark = current['refresh_mark']
if not current['modulex_sealed'] then
  mark = type(current['refresh_token']) == 'string' and redis.sha1hex(current['refresh_token']) or nil
end
if mark ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


TLS_FILES = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")


def parse_redis_url(url: str) -> tuple[str, str]:
    """Split ``redis://[[user]:password@]host:port/db?key=KEY`` (or ``rediss://``,
    ``unix://``) into the URL redis-py accepts and ``KEY``, the Redis key that
    holds the credentials.

    redis-py passes unknown query parameters on to the connection, which
    rejects them, so ``key`` is taken out, and so are the TLS file paths
    redis-py's URL parser does not read (:data:`TLS_FILES`, given to the
    client by :func:`tls_files`); every other parameter is kept. Messages
    never repeat the URL: it may hold a password.
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
    rest = urlencode([(name, value) for name, value in query if name != "key" and name not in TLS_FILES])
    return urlunsplit(parts._replace(query=rest)), keys[0]


def tls_files(url: str) -> dict[str, str]:
    """The TLS files a ``rediss://`` URL names (``?ssl_ca_certs=/path/ca.pem`` for a
    private CA; ``ssl_certfile`` and ``ssl_keyfile`` for a client certificate)."""
    return {name: value for name, value in parse_qsl(urlsplit(url).query) if name in TLS_FILES and value}


def _without_password(url: str) -> str:
    """``url`` as messages may show it: a password replaced by the word PASSWORD."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:PASSWORD@{host}"))


class RedisStore:
    """A :class:`~modulex_pinterest.contract.CredentialStore`: one grant's
    credentials as one JSON string at one Redis key, with its refresh lease at
    ``KEY:lease``.

    Building one does not connect; each store keeps one client (one pool of
    connections), so build one per grant and process and reuse it.
    """

    def __init__(self, url: str, *, client: redis.Redis | None = None, sealer: Sealer | None = None) -> None:
        """:param url: ``redis://[[user]:password@]host:port/db?key=KEY``.
        :param client: a ready client to use instead of one built from ``url``
            (``url`` still names the key).
        :param sealer: how credentials are sealed at rest (default: the key in the
            environment, if any; see :mod:`.sealing`)."""
        self.sealer = sealer if sealer is not None else Sealer.from_environment()
        base, self.key = parse_redis_url(url)
        self.location = _without_password(url)
        self.grant_id = f"redis:{self.key}"
        self._lease_key = f"{self.key}:lease"
        if client is None:
            client = redis.Redis.from_url(
                base,
                decode_responses=True,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=CONNECT_TIMEOUT,
                retry=Retry(ExponentialWithJitterBackoff(cap=0.25, base=0.01), RETRIES),
                **tls_files(url),
            )
        self._client = client
        self._hidden = redis_password_forms(client)
        self._swap = client.register_script(SWAP)
        self._release = client.register_script(RELEASE)
        self._renew_script = client.register_script(RENEW)
        self._renewer = _Renewer(self)
        self._clock_offset: float | None = None
        self._clock_checked = 0.0

    def __repr__(self) -> str:
        return f"RedisStore(key={self.key!r})"

    def _call(self, what: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``, its Redis errors turned into a :class:`StoreError` with no secret."""
        try:
            return function(*args, **kwargs)
        except redis.exceptions.RedisError as error:
            raise redis_failure(f"{what} at Redis key {self.key!r}", error, self._hidden) from None

    def read(self) -> Credentials | None:
        """The stored credentials, or ``None`` when the key does not exist."""
        raw = self._call("read the credentials", self._client.get, self.key)
        if raw is None:
            return None
        try:
            stored = json.loads(raw)
        except ValueError:
            stored = None
        return self.sealer.open(stored, f"Redis key {self.key!r}")

    def save(self, credentials: Credentials) -> None:
        """Store ``credentials`` whatever is there (a login or an import, not a refresh)."""
        self._call("save the credentials", self._client.set, self.key, json.dumps(self.sealer.seal(credentials)))

    def swap(self, presented_refresh_token: str, credentials: Credentials) -> bool:
        """Store ``credentials`` only if the stored refresh token is still
        ``presented_refresh_token``, atomically on the server; whether they were stored."""
        stored = self._call(
            "swap in refreshed credentials",
            self._swap,
            keys=[self.key],
            args=[refresh_mark(presented_refresh_token), json.dumps(self.sealer.seal(credentials))],
        )
        return bool(stored)

    def now(self) -> float:
        """The Redis server's clock (``TIME``), shared by every worker whatever its own clock says.

        Read as this machine's clock plus the offset to the server's, measured
        with ``TIME`` at most every :data:`CLOCK_CHECK` seconds: a refresh asks
        the time more than once, and clocks do not drift apart in a minute.
        """
        mono = time.monotonic()
        if self._clock_offset is None or mono - self._clock_checked > CLOCK_CHECK:
            seconds, microseconds = self._call("read the server's clock", self._client.time)
            self._clock_offset = float(seconds) + microseconds / 1e6 - time.time()
            self._clock_checked = mono
        return time.time() + self._clock_offset

    def rescue(self, credentials: Credentials) -> str:
        """Keep credentials that could not be written to Redis in a 0600 file (see :func:`.stores.rescue`)."""
        name = "redis-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in self.key)[:80]
        return rescue(self.sealer.seal(credentials), name, [])

    @contextmanager
    def lease(self, ttl: float, wait: float) -> Iterator[bool]:
        """Hold the refresh lease; enters ``False`` if another holder kept it past ``wait`` seconds.

        The key lives ``ttl`` seconds and a thread of this store renews it
        every ``ttl / 4`` while the ``with`` block runs, so a holder that dies blocks the
        others for at most ``ttl`` and a living one keeps it through a slow
        token answer. Polls every 5 ms, growing to 50 ms, never past the
        deadline. Releasing deletes the lease only if it is still ours. A
        failed renewal or release is logged, not raised: the compare-and-swap
        keeps the store right, and the lease expires by itself.
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
        self._renewer.hold(owner, ttl_ms)
        try:
            yield True
        finally:
            self._renewer.drop(owner)
            try:
                self._call("release the refresh lease", self._release, keys=[self._lease_key], args=[owner])
            except StoreError as error:
                log.warning("%s; it expires by itself within %.1f s", error, ttl)

    def _renew(self, owner: str, ttl_ms: int) -> bool:
        return bool(
            self._call("renew the refresh lease", self._renew_script, keys=[self._lease_key], args=[owner, ttl_ms])
        )

    def rate_budget(self, prefix: str = "modulex:budget:") -> RedisRateBudget:
        """A :class:`~.redis_budget.RedisRateBudget` on this store's connection pool."""
        from .redis_budget import RedisRateBudget

        return RedisRateBudget(self._client, prefix)


class _Renewer:
    """One daemon thread per store that keeps its held leases alive.

    Started with the first lease (a thread per lease would cost more than
    the rest of a refresh); it sleeps until the next renewal is due. After a
    fork the child starts a thread of its own: threads do not survive fork.
    """

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._held: dict[str, tuple[int, float]] = {}  # owner -> (ttl in ms, when it is next due)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def hold(self, owner: str, ttl_ms: int) -> None:
        with self._changed:
            self._held[owner] = (ttl_ms, time.monotonic() + ttl_ms / 4000)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="modulex-lease-renewer", daemon=True)
                self._thread.start()
            self._changed.notify()

    def drop(self, owner: str) -> None:
        with self._changed:
            self._held.pop(owner, None)

    def _run(self) -> None:
        while True:
            with self._changed:
                while True:
                    now = time.monotonic()
                    due = [(owner, ttl) for owner, (ttl, at) in self._held.items() if at <= now]
                    if due:
                        for owner, ttl in due:
                            self._held[owner] = (ttl, now + ttl / 4000)
                        break
                    soonest = min((at for _, at in self._held.values()), default=None)
                    self._changed.wait(None if soonest is None else soonest - now)
            for owner, ttl in due:
                try:
                    if owner in self._held and not self._store._renew(owner, ttl):
                        log.warning(
                            "the refresh lease at Redis key %r was lost: another worker holds it", self._store.key
                        )
                except StoreError as error:
                    log.warning("%s; retrying", error)
