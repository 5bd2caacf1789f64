"""The Redis credential store and the rate budgets, against a real Redis server
and, for the lease, real OS processes. The in-process budget runs on a fake
clock, so its numbers are exact."""

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import uuid
from urllib.parse import quote

import pytest
import redis

from modulex_pinterest.contract import CredentialStore, RateBudget
from modulex_pinterest.host.budget import (
    ARRIVAL_JITTER,
    IDLE_AFTER,
    LocalRateBudget,
    burst_of,
    gcra_params,
    rate_key,
)
from modulex_pinterest.host.errors import StoreError
from modulex_pinterest.host.redis_budget import RedisRateBudget
from modulex_pinterest.host.redis_store import RedisStore, parse_redis_url

PASSWORD = quote("s3cret-Pa55/word", safe="")  # as it must appear in a URL


def with_key(url, key):
    return f"{url}{'&' if '?' in url else '?'}key={key}"


@pytest.fixture
def key():
    return f"modulex-test:{uuid.uuid4().hex}"


@pytest.fixture
def raw(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def store(redis_url, raw, key):
    yield RedisStore(with_key(redis_url, key))
    raw.delete(key, f"{key}:lease")


def credentials(refresh_token, access_token="pina_access"):
    return {"mode": "oauth2", "access_token": access_token, "refresh_token": refresh_token, "expires_at": 1}


# --- URL and secrets (no server) ---------------------------------------------


def test_parse_redis_url_takes_the_key_out_and_keeps_the_rest():
    assert parse_redis_url("redis://:pw@db.example:6380/2?key=modulex:pinterest") == (
        "redis://:pw@db.example:6380/2",
        "modulex:pinterest",
    )
    base, key = parse_redis_url("rediss://u:pw@h:6379/0?ssl_cert_reqs=none&key=a%2Fb&health_check_interval=5")
    assert key == "a/b"
    assert base == "rediss://u:pw@h:6379/0?ssl_cert_reqs=none&health_check_interval=5"
    redis.connection.parse_url(base)  # what redis-py will be given: it accepts it


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@h:6379/0",
        f"redis://:{PASSWORD}@h:6379/0?key=",
        f"redis://:{PASSWORD}@h:6379/0?db=1",
        f"redis://:{PASSWORD}@h:6379/0?key=a&key=b",
    ],
)
def test_parse_redis_url_without_one_key_says_how_to_give_it(url):
    with pytest.raises(ValueError, match=r"\?key=") as raised:
        parse_redis_url(url)
    assert PASSWORD not in str(raised.value)


def test_parse_redis_url_refuses_other_schemes_without_repeating_the_url():
    with pytest.raises(ValueError, match="redis://") as raised:
        parse_redis_url(f"http://:{PASSWORD}@h/0?key=k")
    assert PASSWORD not in str(raised.value)


def test_a_password_that_breaks_the_url_is_not_repeated():
    with pytest.raises(ValueError, match="percent-encode") as raised:
        RedisStore("redis://:s3cret/Pa55@127.0.0.1:6379/0?key=k")
    assert "s3cret" not in str(raised.value) and "Pa55" not in str(raised.value)


def test_store_does_not_connect_when_built_and_shows_no_secret():
    store = RedisStore(f"redis://:{PASSWORD}@no-such-host.invalid:6380/2?key=creds")
    assert store.grant_id == "redis:creds"
    assert "creds" in repr(store)
    assert "s3cret" not in repr(store) and "no-such-host" not in store.grant_id
    assert "s3cret" not in repr(store.rate_budget())
    assert isinstance(store, CredentialStore)
    assert isinstance(store.rate_budget(), RateBudget)


def test_store_errors_say_what_failed_without_the_password():
    with socket.socket() as sock:  # a port nobody listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = RedisStore(f"redis://:{PASSWORD}@127.0.0.1:{port}/0?key=creds")
    for call in (store.read, lambda: store.save(credentials("r")), lambda: store.swap("r", credentials("r2"))):
        with pytest.raises(StoreError, match="creds") as raised:
            call()
        shown = "".join(traceback.format_exception(raised.value))
        assert "s3cret" not in shown and "Pa55" not in shown
    with pytest.raises(StoreError, match="refresh lease"), store.lease(1, 0):
        pass


# --- credentials ----------------------------------------------------------------


def test_read_save_and_swap(store, raw, key):
    assert store.read() is None
    assert store.swap("r1", credentials("r2")) is False  # nothing stored: nothing to compare
    assert store.read() is None

    store.save(credentials("r1"))
    assert store.read() == credentials("r1")
    assert json.loads(raw.get(key)) == credentials("r1")  # one JSON string at the key

    assert store.swap("r0", credentials("r9", "stale")) is False  # another worker rotated r0 away
    assert store.read() == credentials("r1")
    assert store.swap("r1", credentials("r2", "fresh")) is True
    assert store.read() == credentials("r2", "fresh")
    assert store.swap("r1", credentials("r3")) is False  # r1 was just rotated
    assert store.read() == credentials("r2", "fresh")


def test_swap_refuses_when_the_stored_credentials_have_no_refresh_token(store):
    store.save({"mode": "oauth2", "access_token": "a"})
    assert store.swap("", credentials("r2")) is False
    assert store.read() == {"mode": "oauth2", "access_token": "a"}


def test_corrupt_stored_credentials_are_an_error_not_a_refusal(store, raw, key):
    raw.set(key, "{not json")
    with pytest.raises(StoreError, match="not a JSON object"):
        store.read()
    with pytest.raises(StoreError, match="not a JSON object"):
        store.swap("r1", credentials("r2"))
    raw.set(key, "[1, 2]")
    with pytest.raises(StoreError, match="not a JSON object"):
        store.read()


# --- the lease ------------------------------------------------------------------


def test_lease_excludes_a_second_holder_until_released(redis_url, store, key):
    other = RedisStore(with_key(redis_url, key))
    with store.lease(ttl=5, wait=0) as first:
        assert first is True
        with other.lease(ttl=5, wait=0.05) as second:
            assert second is False
    with other.lease(ttl=5, wait=0) as second:
        assert second is True


def test_lease_waits_for_the_holder_to_release(redis_url, store, key):
    other = RedisStore(with_key(redis_url, key))
    tried, entered = threading.Event(), []
    set_lease = other._client.set

    def set_and_tell(*args, **kwargs):
        result = set_lease(*args, **kwargs)
        tried.set()
        return result

    other._client.set = set_and_tell

    def waiter():
        with other.lease(ttl=5, wait=10) as second:
            entered.append(second)

    thread = threading.Thread(target=waiter)
    with store.lease(ttl=5, wait=0) as first:
        assert first is True
        thread.start()
        assert tried.wait(10)  # the waiter found the lease held and is polling
        assert entered == []
    thread.join(10)
    assert entered == [True]


def test_a_living_holder_keeps_its_lease_past_its_ttl(redis_url, store, key):
    other = RedisStore(with_key(redis_url, key))
    with store.lease(ttl=0.2, wait=0) as held:
        assert held is True
        with other.lease(ttl=5, wait=1.0) as second:  # five times the ttl: renewed all along
            assert second is False


def test_an_expired_lease_passes_on_and_its_late_release_spares_the_new_holder(redis_url, store, raw, key):
    other, third = (RedisStore(with_key(redis_url, key)) for _ in range(2))
    store._renew = lambda owner, ttl_ms: True  # a stalled holder: its renewals never reach Redis
    stalled = store.lease(ttl=0.1, wait=0)
    assert stalled.__enter__() is True
    with other.lease(ttl=5, wait=5) as second:  # polls until the stalled holder's lease expires
        assert second is True
        owner = raw.get(f"{key}:lease")
        stalled.__exit__(None, None, None)  # the stalled holder wakes up and releases
        assert raw.get(f"{key}:lease") == owner
        with third.lease(ttl=5, wait=0) as third_in:
            assert third_in is False
    assert raw.get(f"{key}:lease") is None


WORKER = textwrap.dedent("""
    import sys

    import redis

    from modulex_pinterest.host.redis_store import RedisStore, parse_redis_url

    url, counter, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = RedisStore(url)
    client = redis.Redis.from_url(parse_redis_url(url)[0], decode_responses=True)
    print("ready", flush=True)
    sys.stdin.readline()  # everyone starts together
    acquired = 0
    for _ in range(rounds):
        with store.lease(ttl=10, wait=30) as held:
            if held:
                acquired += 1
                value = int(client.get(counter) or 0)  # read, then write: racy without the lease
                client.set(counter, value + 1)
    print(acquired, flush=True)
""")


def test_lease_excludes_across_processes(redis_url, raw, key, tmp_path):
    processes, rounds, counter = 6, 10, f"{key}:counter"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, with_key(redis_url, key), counter, str(rounds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tmp_path,  # not the checkout: the installed package
        )
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        acquired = 0
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0
            acquired += int(out)
        assert acquired == processes * rounds
        assert int(raw.get(counter)) == acquired
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        raw.delete(counter, key, f"{key}:lease")


# --- the Redis budget -------------------------------------------------------------


@pytest.fixture
def budget(raw, key):
    prefix = f"{key}:budget:"
    yield RedisRateBudget(raw, prefix)
    for name in raw.scan_iter(f"{prefix}*"):
        raw.delete(name)


def assert_wait(wait, expected, since):
    """``wait`` is ``expected`` less the server's time since a call made after
    ``since`` (a ``time.monotonic()``): the server's clock can have moved no
    more than ours since then, so the bound holds on a slow machine too."""
    elapsed = time.monotonic() - since
    assert max(0.0, expected - elapsed) - 1e-4 <= wait <= expected + 1e-4


def test_redis_budget_spaces_requests_at_the_rate(budget):
    interval, _ = gcra_params(10)
    since = time.monotonic()
    assert budget.reserve("grant:org_read", 10, 5) == 0
    assert_wait(budget.reserve("grant:org_read", 10, 5), interval, since)
    assert_wait(budget.reserve("grant:org_read", 10, 5), 2 * interval, since)
    assert budget.reserve("grant:other", 10, 5) == 0  # keys are independent


def test_redis_budget_allows_its_burst_then_the_interval(budget):
    interval, _ = gcra_params(100)
    since = time.monotonic()
    assert [budget.reserve("k", 100, 5) for _ in range(burst_of(100))] == [0] * 5
    assert_wait(budget.reserve("k", 100, 5), interval, since)


def test_redis_budget_refuses_past_max_wait_without_reserving(budget):
    interval, _ = gcra_params(10)
    since = time.monotonic()
    budget.reserve("k", 10, 5)
    budget.reserve("k", 10, 5)
    refused = budget.reserve("k", 10, 0.01)
    assert refused > 0.01
    assert_wait(refused, 2 * interval, since)
    assert_wait(budget.reserve("k", 10, 5), 2 * interval, since)  # the refusal took nothing


def test_redis_budget_pause_holds_everyone_back(budget):
    interval, _ = gcra_params(100)
    budget.reserve("k", 100, 5)
    since = time.monotonic()
    budget.pause("k", 0.5)
    assert_wait(budget.reserve("k", 100, 5), 0.5, since)
    assert_wait(budget.reserve("k", 100, 5), 0.5 + interval, since)  # then spaced at the rate, no burst
    budget.pause("k", 0.1)  # a shorter pause does not shorten a longer one
    assert_wait(budget.reserve("k", 100, 5), 0.5 + 2 * interval, since)
    assert_wait(budget.reserve("k", 3, 5), 0.5, since)  # a pause holds every rate back


def test_redis_budget_state_expires_once_idle(budget, raw, key):
    budget.reserve("k", 10, 5)
    ttl = raw.pttl(f"{key}:budget:k{rate_key('', 10)}")
    assert 0 < ttl <= (gcra_params(10)[0] + IDLE_AFTER) * 1000 + 1
    budget.pause("k", 0.2)
    assert 0 < raw.pttl(f"{key}:budget:k") <= 201


# --- the in-process budget, on a fake clock ------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_burst_is_a_twentieth_of_a_second_at_least_one_and_counts_against_the_rate():
    assert [burst_of(r) for r in (0.5, 1, 10, 19.9, 20, 39.9, 40, 100, 1000)] == [1, 1, 1, 1, 1, 1, 2, 5, 50]
    for rate in (0.1, 1, 10, 19, 20, 21, 99, 100, 101, 999, 10_000, 1e9):
        interval, tau = gcra_params(rate)
        assert tau < 0.1 < IDLE_AFTER  # what IDLE_AFTER relies on
        # A burst, then the interval: no more than `rate` requests in any 1 + J seconds.
        assert burst_of(rate) + (1 + ARRIVAL_JITTER) / interval == pytest.approx(rate + 1)
    for rate in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="positive, finite rate"):
            gcra_params(rate)


def test_local_budget_spaces_requests_at_the_rate():
    clock = FakeClock()
    budget = LocalRateBudget(clock=clock)
    assert isinstance(budget, RateBudget)
    interval, _ = gcra_params(10)
    assert [budget.reserve("k", 10, 5) for _ in range(3)] == pytest.approx([0, interval, 2 * interval])
    clock.now += 0.25
    assert budget.reserve("k", 10, 5) == pytest.approx(3 * interval - 0.25)
    clock.now += 10  # idle: the burst is back, no more
    fast, _ = gcra_params(100)
    assert [budget.reserve("k", 100, 5) for _ in range(6)] == pytest.approx([0] * 5 + [fast])


def test_local_budget_refuses_past_max_wait_without_reserving():
    budget = LocalRateBudget(clock=FakeClock())
    interval, _ = gcra_params(10)
    budget.reserve("k", 10, 5)
    budget.reserve("k", 10, 5)
    assert budget.reserve("k", 10, 0.15) == pytest.approx(2 * interval)
    assert budget.reserve("k", 10, 2 * interval) == pytest.approx(2 * interval)  # nothing was taken by the refusal


def test_local_budget_pause():
    clock = FakeClock()
    budget = LocalRateBudget(clock=clock)
    interval, _ = gcra_params(100)
    budget.pause("fresh", 2)  # no reserve before: the rate is unknown, the pause still holds
    assert budget.reserve("fresh", 100, 5) == pytest.approx(2)
    assert budget.reserve("fresh", 100, 5) == pytest.approx(2 + interval)
    budget.pause("fresh", 1)  # shorter: no effect
    assert budget.reserve("fresh", 100, 5) == pytest.approx(2 + 2 * interval)
    budget.pause("fresh", 0)
    budget.pause("other", -1)
    budget.pause("other", float("nan"))
    assert budget.reserve("other", 100, 5) == 0


def test_local_budget_forgets_idle_keys():
    clock = FakeClock()
    budget = LocalRateBudget(clock=clock, max_keys=100)
    for i in range(100):
        budget.reserve(f"old{i}", 10, 5)
    clock.now += IDLE_AFTER + 0.2
    for i in range(100):
        budget.reserve(f"new{i}", 10, 5)
    assert len(budget._allow) <= 100
    assert budget.reserve("new0", 10, 5) == pytest.approx(gcra_params(10)[0])  # busy keys are kept


def test_local_budget_is_thread_safe():
    budget = LocalRateBudget(clock=FakeClock())  # frozen time: every reservation must queue
    interval, _ = gcra_params(10)
    waits, start = [], threading.Barrier(8)

    def take():
        start.wait()
        for _ in range(50):
            waits.append(budget.reserve("k", 10, 1000))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([i * interval for i in range(400)])
