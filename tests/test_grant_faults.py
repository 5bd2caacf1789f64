"""One grant, many workers, when things go wrong: a refresh token Pinterest
rejects, a lease holder that dies mid-refresh, a token answer slower than the
lease, a worker whose clock runs ahead, a store that fails right after the
token endpoint answered.

Workers are real OS processes running the installed command, or the reference
host in this process where the test needs the failure report; the sandbox
stands in for Pinterest (it revokes the whole grant when a rotated refresh
token is presented), with its token endpoint wrapped so that a test can act
at the moment a token request arrives or has been answered.
"""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from modulex_pinterest.host import CredentialsFile, Host
from modulex_pinterest.sandbox.wire import json_response
from test_oauth import TOKEN_PATH, authorize
from test_workers import finish, go, start_ready_workers, start_workers

WORKERS = 16
REAUTHORIZE = "Re-authorize the app"


class TokenEndpoint:
    """The sandbox's token endpoint, wrapped: ``before(n)`` runs when token request
    ``n`` (from 1) arrives, ``after(n)`` once the sandbox answered it (the refresh
    token rotated) and before the answer leaves. ``calls`` counts the requests,
    including ones whose answer never left."""

    def __init__(self, sandbox, before=None, after=None):
        self.calls = 0
        self._count = itertools.count(1)
        routes = sandbox._api.routes
        (index,) = [i for i, route in enumerate(routes) if route[0] == TOKEN_PATH]
        pattern, method, scopes, handler = routes[index]

        def wrapped(request):
            n = next(self._count)
            self.calls = n
            if before is not None:
                early = before(n)
                if early is not None:
                    return early
            response = handler(request)
            if after is not None:
                after(n)
            return response

        routes[index] = (pattern, method, scopes, wrapped)


def store_argument(kind, tmp_path, redis_url):
    if kind == "file":
        return str(tmp_path / "pinterest.json")
    return f"{redis_url}?key=test:faults:{uuid.uuid4().hex}"


def save(kind, where, credentials):
    if kind == "file":
        CredentialsFile(where).save(credentials)
    else:
        from modulex_pinterest.host.redis_store import RedisStore

        RedisStore(where).save(credentials)


def read(kind, where):
    if kind == "file":
        return CredentialsFile(where).read()
    from modulex_pinterest.host.redis_store import RedisStore

    return RedisStore(where).read()


def run_args(where, sandbox, *extra):
    return ("run", "list_boards", "--credentials", where, "--base-url", sandbox.base_url, *extra)


# ----- a rejected refresh token ---------------------------------------------


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_a_rejected_refresh_token_costs_one_token_request_for_sixteen_processes(sandbox, tmp_path, redis_url, kind):
    where = store_argument(kind, tmp_path, redis_url)
    save(kind, where, dict(authorize(sandbox), refresh_token="pinr_rejected_" + uuid.uuid4().hex, expires_at=1))
    endpoint = TokenEndpoint(sandbox)
    results = finish(go(start_ready_workers(WORKERS, *run_args(where, sandbox))))
    for returncode, output in results:
        assert returncode != 0 and output["success"] is False, output
        assert "invalid_grant" in output["error"] and REAUTHORIZE in output["error"], output
        assert "lease" not in output["error"], output
    assert endpoint.calls == 1
    # Later runs fail at once too, sending nothing, until new credentials are stored.
    ((returncode, output),) = finish(start_workers(1, *run_args(where, sandbox)))
    assert returncode != 0 and REAUTHORIZE in output["error"] and endpoint.calls == 1
    save(kind, where, dict(authorize(sandbox), expires_at=1))
    ((returncode, output),) = finish(start_workers(1, *run_args(where, sandbox)))
    assert returncode == 0 and output["success"], output
    assert endpoint.calls == 3  # the authorization code above, then one refresh


# ----- a lease holder that dies with its token request in flight -------------


@pytest.mark.parametrize("rotated", [False, True], ids=["answer-lost-before-pinterest", "answer-lost-after"])
@pytest.mark.parametrize("kind", ["file", "redis"])
def test_a_lease_holder_killed_mid_refresh_is_taken_over(sandbox, tmp_path, redis_url, kind, rotated):
    """The holder's token request is in flight when it is killed (SIGKILL). Waiting
    workers take over once its lease lapses (at once for the file's OS lock, within
    the 10 s lease for Redis), within their own deadline, and none is told to retry.

    If Pinterest had not acted on the lost request, the takeover refreshes and
    everyone succeeds; if it had rotated the token, the takeover's refresh is
    refused, which no one can help, and says the holder may have died; the others
    then fail at once, without another token request."""
    where = store_argument(kind, tmp_path, redis_url)
    save(kind, where, dict(authorize(sandbox), expires_at=1))
    in_flight, release = threading.Event(), threading.Event()

    def first_hangs(n):
        if n == 1 and not rotated:
            in_flight.set()
            release.wait(60)
            return json_response(500, {"code": 1, "message": "never read: the worker is dead"})
        return None

    def hang_after_answer(n):
        if n == 1 and rotated:
            in_flight.set()
            release.wait(60)

    endpoint = TokenEndpoint(sandbox, before=first_hangs, after=hang_after_answer)
    try:
        waiters = start_ready_workers(3, *run_args(where, sandbox, "--deadline", "15"))  # the issue: within 15 s
        (holder,) = start_workers(1, *run_args(where, sandbox))
        assert in_flight.wait(60), holder.communicate(timeout=5)
        go(waiters)  # they find the lease held, and wait
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        results = finish(waiters)
    finally:
        release.set()
    assert endpoint.calls == 2  # the lost one, and one takeover
    for _, output in results:
        assert "another worker held" not in str(output) and "retry in" not in str(output).lower(), output
    if not rotated:
        assert all(returncode == 0 and output["success"] for returncode, output in results), results
        assert sandbox.revoked_grants == 0
    else:
        errors = [output["error"] for _, output in results]
        assert all(REAUTHORIZE in error for error in errors), errors
        assert any("the worker holding it may have died" in error for error in errors), errors


# ----- a token answer slower than the lease's time limit ---------------------


def test_a_token_answer_slower_than_the_lease_ttl_is_still_one_refresh(sandbox, redis_url):
    """The lease lives 10 s unless renewed; the answer takes 11 s. Its holder renews
    it, so the other fifteen wait instead of refreshing the same token again."""
    where = f"{redis_url}?key=test:faults:{uuid.uuid4().hex}"
    save("redis", where, dict(authorize(sandbox), expires_at=1))
    slow = threading.Event()
    endpoint = TokenEndpoint(sandbox, after=lambda n: slow.wait(11))
    try:
        results = finish(go(start_ready_workers(WORKERS, *run_args(where, sandbox))))
    finally:
        slow.set()
    assert all(returncode == 0 and output["success"] for returncode, output in results), results
    assert endpoint.calls == 1 and sandbox.revoked_grants == 0


# ----- a worker whose clock runs ahead ----------------------------------------

AHEAD = """
import sys, time
real_time = time.time
time.time = lambda: real_time() + 40 * 86400  # this machine's clock is 40 days ahead
from modulex_pinterest.apps.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_worker_whose_clock_runs_ahead_does_not_refresh_a_token_stored_moments_ago(sandbox, redis_url):
    where = f"{redis_url}?key=test:faults:{uuid.uuid4().hex}"
    save("redis", where, dict(authorize(sandbox), expires_at=int(time.time()) + 3600))
    endpoint = TokenEndpoint(sandbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", AHEAD, *run_args(where, sandbox)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    results = finish(workers)
    assert all(returncode == 0 and output["success"] for returncode, output in results), results
    assert endpoint.calls == 0


# ----- a store that fails after the token endpoint answered -------------------


class PrivateRedis:
    """A redis-server of this test's own, to restart, pause and starve."""

    def __init__(self, directory):
        from conftest import _start_redis

        self.directory = directory
        self.process, self.url = _start_redis(directory)
        if self.process is None:
            pytest.skip(self.url)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def restart(self):
        """Stop it (its data is in memory only: gone) and start it again on the same port."""
        self.process.kill()
        self.process.wait()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()


def run_in_process(sandbox, store, **settings):
    """One list_boards through the reference host (entry-point discovery), with its failure report."""
    reports = []
    out = Host().run(
        "pinterest",
        "list_boards",
        {},
        None,
        {"base_url": sandbox.base_url, **settings},
        store=store,
        report_failure=reports.append,
    )
    return out, reports


def recover(sandbox, out, where, tmp_path):
    """What the error tells a person to do, done: ``auth import`` the rescue file, then run."""
    rescued = out["error"].split("They were saved to ", 1)[1].split(" (readable only by you)", 1)[0]
    assert os.stat(rescued).st_mode & 0o777 == 0o600
    imported = subprocess.run(
        [*start_cli(), "auth", "import", rescued, "--credentials", where], capture_output=True, text=True, timeout=60
    )
    assert imported.returncode == 0, imported.stderr
    ((returncode, output),) = finish(start_workers(1, *run_args(where, sandbox)))
    assert returncode == 0 and output["success"], output


def start_cli():
    from test_cli import CLI

    return [CLI]


def assert_kept_or_rescued(sandbox, out, reports, stored_after, where, tmp_path):
    if out["success"]:
        assert reports == []
        assert stored_after is not None and "refreshing" not in stored_after
    else:
        (report,) = reports
        assert report["retryable"] is False, report
        assert "could not be stored" in out["error"] and "auth import" in out["error"], out
        recover(sandbox, out, where, tmp_path)
    assert sandbox.revoked_grants == 0


@pytest.mark.parametrize("fault", ["restarted", "paused", "out-of-memory"])
def test_tokens_issued_while_redis_fails_are_kept_or_rescued(sandbox, tmp_path, monkeypatch, fault):
    monkeypatch.setenv("MODULEX_PINTEREST_RESCUE_DIR", str(tmp_path / "rescued"))
    from modulex_pinterest.host.redis_store import RedisStore

    server = PrivateRedis(tmp_path)
    try:
        where = f"{server.url}?key=test:faults:{fault}"
        store = RedisStore(where)
        store.save(dict(authorize(sandbox), expires_at=1))
        resumed = threading.Timer(20, lambda: server.process.send_signal(signal.SIGCONT))

        def break_redis(n):
            if fault == "restarted":
                server.restart()
            elif fault == "paused":
                server.process.send_signal(signal.SIGSTOP)
                resumed.start()  # paused for 20 s
            else:
                server.client().config_set("maxmemory", "1")

        TokenEndpoint(sandbox, after=break_redis)
        out, reports = run_in_process(sandbox, store, deadline=40 if fault == "paused" else 10)
        resumed.join(30) if resumed.is_alive() else resumed.cancel()
        if fault == "out-of-memory":
            server.client().config_set("maxmemory", "0")
        if fault == "restarted":
            assert out["success"] is False  # the key is gone with the old server's memory
        if fault == "paused":
            assert out["success"] is True, out  # stored once Redis came back, within the deadline
        assert_kept_or_rescued(sandbox, out, reports, store.read() if out["success"] else None, where, tmp_path)
    finally:
        server.stop()


def test_tokens_issued_while_the_disk_is_full_are_rescued_elsewhere(sandbox, tmp_path, monkeypatch):
    """The credentials file on a small tmpfs that fills up right after the token answer."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        monkeypatch.setenv("MODULEX_PINTEREST_RESCUE_DIR", str(tmp_path / "rescued"))
        where = str(disk / "pinterest.json")
        store = CredentialsFile(where)
        store.save(dict(authorize(sandbox), expires_at=1))

        def fill_the_disk(n):
            fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while os.write(fd, b"\0" * 4096):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)

        TokenEndpoint(sandbox, after=fill_the_disk)
        out, reports = run_in_process(sandbox, store, deadline=10)
        assert out["success"] is False and str(tmp_path / "rescued") in out["error"], out
        os.unlink(disk / "filler")  # the person frees space, then follows the message
        assert_kept_or_rescued(sandbox, out, reports, None, where, tmp_path)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
