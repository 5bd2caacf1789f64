"""The rate budgets when things go wrong: server hints parsed strictly, pauses
bounded on every budget, a slow worker pacing only itself, and one budget for
every process of a machine (the reference host's default), tested with real
OS processes running the installed command against the sandbox, which counts
the 429s it sends."""

import json
import os
import stat
import subprocess
import sys
import uuid
from email.utils import formatdate

import pytest

from modulex_pinterest.contract import RateBudget
from modulex_pinterest.host import Host
from modulex_pinterest.host.budget import MAX_PAUSE, LocalRateBudget, gcra_params
from modulex_pinterest.host.machine_budget import (
    ENV_DIRECTORY,
    BudgetDirectoryError,
    MachineRateBudget,
    default_budget,
)
from modulex_pinterest.plugin.transport.retry import PAUSE_CEILING, retry_after_seconds
from modulex_pinterest.sandbox import Sandbox
from test_cli import CLI
from test_oauth import authorize
from test_workers import finish, go, spend_until, start_ready_workers

NOW = 1_800_000_000.0  # the wall clock the parsing table is read at (2027-01-15)


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": " 12 "}, 12.0),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "99999999"}, 99999999.0),  # taken as asked: the pause and the retry bound it
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, 0.0),  # a date passed: now
        ({"Retry-After": "Sunday, 06-Nov-94 08:49:37 GMT"}, 0.0),  # RFC 850, obsolete but accepted
        ({"Retry-After": "Sun Nov  6 08:49:37 1994"}, 0.0),  # asctime
        ({"Retry-After": "Tue, 07 Dec 2126 00:00:00 GMT"}, 4_952_275_200.0 - NOW),
        ({"X-RateLimit-Reset": "5"}, 5.0),
        ({"X-RateLimit-Reset": "2.5"}, 2.5),
        ({"X-RateLimit-Reset": str(int(NOW) + 40)}, 40.0),  # epoch seconds
        ({"X-RateLimit-Reset": str(int(NOW * 1000) + 40_000)}, 40.0),  # epoch milliseconds, converted
        ({"X-RateLimit-Reset": "4102444800"}, 4_102_444_800.0 - NOW),  # 2100, taken as asked
        ({"X-RateLimit-Reset": str(int(NOW) - 40)}, 0.0),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "Infinity"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "1e3"}, None),
        ({"Retry-After": "1.5"}, 1.5),  # not RFC 9110's, but harmless: taken
        ({"Retry-After": "1."}, None),
        ({"Retry-After": "١٢٣"}, None),  # Arabic-Indic digits: int() would take them
        ({"Retry-After": "１２"}, None),  # fullwidth digits
        ({"Retry-After": "12\n"}, None),
        ({"Retry-After": "garbage"}, None),
        ({"Retry-After": "Sun, ٠٦ Nov 1994 08:49:37 GMT"}, None),
        ({"Retry-After": "Sun, 06 Nov 1994 08:49:37 +0200"}, None),  # not GMT: not an HTTP date
        ({"Retry-After": "9" * 400}, None),
        ({"X-RateLimit-Reset": "inf"}, None),
        ({"X-RateLimit-Reset": "nan"}, None),
        ({"X-RateLimit-Reset": "-5"}, None),
        ({"X-RateLimit-Reset": "1e12"}, None),
        ({"X-RateLimit-Reset": "٣"}, None),
        ({"Retry-After": "garbage", "X-RateLimit-Reset": "3"}, 3.0),  # the next hint is used
        ({}, None),
    ],
)
def test_server_hints_are_parsed_strictly(headers, expected):
    got = retry_after_seconds(headers, now=NOW)
    assert got == (pytest.approx(expected) if expected is not None else None)


# ----- every budget bounds its pauses -----------------------------------------------


@pytest.fixture(params=["local", "machine", "redis"])
def budgets(request, tmp_path):
    """Two handles on one shared budget (two workers), of each kind."""
    if request.param == "local":
        shared = LocalRateBudget()
        return shared, shared
    if request.param == "machine":
        return MachineRateBudget(tmp_path / "budget"), MachineRateBudget(tmp_path / "budget")
    redis_url = request.getfixturevalue("redis_url")
    import redis

    from modulex_pinterest.host.redis_budget import RedisRateBudget

    prefix = f"modulex-test:{uuid.uuid4().hex}:budget:"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    request.addfinalizer(lambda: [client.close() for client in clients])
    return RedisRateBudget(clients[0], prefix), RedisRateBudget(clients[1], prefix)


@pytest.mark.parametrize("seconds", [float("inf"), 1e9, 99999999, MAX_PAUSE * 3])
def test_no_pause_outlasts_the_ceiling(budgets, seconds):
    first, second = budgets
    assert isinstance(first, RateBudget)
    first.pause("grant:org_read", seconds)
    wait = second.reserve("grant:org_read", 20, 1e9)
    assert MAX_PAUSE - 5 < wait <= MAX_PAUSE
    first.pause("grant:org_read", float("nan"))  # nothing
    assert second.reserve("grant:org_write", 20, 1e9) == 0  # other keys are not paused


def test_a_slow_workers_rate_does_not_pause_the_others(budgets):
    slow, fast = budgets
    assert slow.reserve("grant:org_read", 0.001, 60) == 0
    assert slow.reserve("grant:org_read", 0.001, 60) > 1000  # its own next request waits its interval
    assert fast.reserve("grant:org_read", 20, 60) == 0  # nobody else does
    interval, _ = gcra_params(20)
    assert 0 < fast.reserve("grant:org_read", 20, 60) <= interval


# ----- through the host: a 429's hint, then the next worker -------------------------


PAUSING_HINTS = [
    {"Retry-After": "inf"},
    {"Retry-After": "99999999"},
    {"Retry-After": "Tue, 07 Dec 2126 00:00:00 GMT"},
    {"X-RateLimit-Reset": "4102444800"},
    {"X-RateLimit-Reset": "4102444800000"},
]


@pytest.mark.parametrize("hint", PAUSING_HINTS, ids=lambda h: "=".join(next(iter(h.items()))))
def test_after_a_429_the_next_worker_waits_at_most_the_ceiling(sandbox, tmp_path, hint):
    """Two hosts (two workers) sharing a machine's budget, each willing to wait for days:
    whatever the 429 said, the second is held back at most the ceiling."""
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    settings = {"base_url": sandbox.base_url, "max_retries": 0, "max_retry_wait": 1e6}
    sandbox.inject_fault("status", status=429, headers={"Retry-After": "", "X-RateLimit-Reset": "", **hint})
    first = Host(budget=MachineRateBudget(tmp_path))
    assert first.run("pinterest", "list_boards", {}, credentials, settings)["success"] is False
    second = Host(budget=MachineRateBudget(tmp_path))
    # A deadline of 1 s: the second fails at once, saying how long the shared budget holds it.
    out = second.run("pinterest", "list_boards", {}, credentials, dict(settings, deadline=1))
    if out["success"]:  # an unusable hint (inf) is ignored: the pause was a backoff, under a second
        assert hint == {"Retry-After": "inf"} and len(sandbox.exchanges) == 2
        return
    assert len(sandbox.exchanges) == 1, out
    waits = [float(word) for word in out["error"].replace("(", " ").split() if word.replace(".", "").isdigit()]
    assert waits and 0 < max(waits) <= PAUSE_CEILING, out["error"]


def test_the_pause_is_bounded_by_max_retry_wait_too(sandbox, tmp_path):
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    sandbox.inject_fault("status", status=429, headers={"Retry-After": "99999999", "X-RateLimit-Reset": ""})
    host = Host(budget=MachineRateBudget(tmp_path))
    settings = {"base_url": sandbox.base_url, "max_retries": 0, "max_retry_wait": 0.3}
    assert host.run("pinterest", "list_boards", {}, credentials, settings)["success"] is False
    out = Host(budget=MachineRateBudget(tmp_path)).run("pinterest", "list_boards", {}, credentials, settings)
    assert out["success"], out  # held back at most 0.3 s, within its own max_retry_wait


# ----- the machine's budget ---------------------------------------------------------


def test_the_reference_host_shares_one_budget_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DIRECTORY, str(tmp_path / "budget"))
    assert isinstance(default_budget(), MachineRateBudget) and isinstance(Host().budget, MachineRateBudget)
    budget = MachineRateBudget()
    budget.reserve("grant:org_read", 20, 60)
    directory = tmp_path / "budget"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (name,) = os.listdir(directory)
    assert "grant" not in name and stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    # Another process on the machine (a separate interpreter) is held back by this one's pause.
    budget.pause("grant:org_read", 30)
    probe = "from modulex_pinterest.host import Host; print(Host().budget.reserve('grant:org_read', 20, 60))"
    env = dict(os.environ, **{ENV_DIRECTORY: str(directory)})
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert 20 < float(out.stdout) <= 30


@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory someone else's needs root")
def test_a_directory_of_someone_else_is_refused(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(BudgetDirectoryError, match="belongs to another user"):
        MachineRateBudget(theirs).reserve("k", 20, 60)


def test_a_directory_others_can_write_is_refused_and_a_planted_link_too(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(BudgetDirectoryError, match="writable by other users"):
        MachineRateBudget(shared).reserve("k", 20, 60)
    # The default directory under a shared temporary folder, planted in advance as a link to elsewhere.
    monkeypatch.delenv(ENV_DIRECTORY, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / "run" / "modulex-pinterest").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BudgetDirectoryError, match="is not a directory"):
        MachineRateBudget().reserve("k", 20, 60)
    assert os.listdir(tmp_path / "elsewhere") == []
    # Through a host, the plugin says whose failure it is and sends nothing.
    out = Host().run("pinterest", "list_boards", {}, {"mode": "access_token", "access_token": "pina_x"})
    assert out["success"] is False and "rate budget" in out["error"], out


def test_idle_key_files_are_removed(tmp_path):
    clock = [1000.0]
    budget = MachineRateBudget(tmp_path, clock=lambda: clock[0])
    for i in range(20):
        budget.reserve(f"grant{i}:org_read", 20, 60)
    assert len(os.listdir(tmp_path)) == 20
    for name in os.listdir(tmp_path):  # written long ago, as far as the wall clock says
        os.utime(tmp_path / name, (1, 1))
    clock[0] += 120  # idle for two minutes, and time for the next sweep
    other = MachineRateBudget(tmp_path, clock=lambda: clock[0])
    other.reserve("grant0:org_read", 20, 60)  # the sweep spares the file in use
    assert len(os.listdir(tmp_path)) == 1
    assert budget.reserve("grant0:org_read", 20, 60) > 0  # the first handle follows the file, not a stale one


# ----- many processes, one rate -------------------------------------------------------


@pytest.mark.parametrize(
    "grant, shared",
    [("credentials-file", True), ("access-token", True), ("credentials-file", False)],
    ids=["one-credentials-file", "one-access-token", "control-a-budget-per-process"],
)
def test_eight_processes_at_the_servers_limit_get_at_most_one_429(tmp_path, grant, shared):
    """The acceptance: eight `modulex-pinterest run` processes with --rate-limit 20, sharing one
    credentials file or one access token, against a sandbox allowing 20 per second, another client
    of which has just spent all but 5: at most one 429 (the budget's burst counts against the limit,
    and every process of the machine shares it). The control gives each process a budget of its own
    (as each Airflow task had): the server sends 429s, so the test can tell the two apart."""
    env = {}  # over the launcher's environment (no PINTEREST_*, no MODULEX_*)
    with Sandbox(rate_limit=20) as sandbox:
        board = sandbox.add_large_board(60)
        credentials = authorize(sandbox)
        args = ["run", "list_pins", "--input", json.dumps({"board_id": board, "fetch_all": True, "page_size": 10})]
        args += ["--rate-limit", "20", "--base-url", sandbox.base_url]
        if grant == "credentials-file":
            (tmp_path / "pinterest.json").write_text(json.dumps(credentials))
            args += ["--credentials", str(tmp_path / "pinterest.json")]
        else:
            env["PINTEREST_ACCESS_TOKEN"] = credentials["access_token"]
        for i in range(8):  # the control's budget directories, one per process
            (tmp_path / "dirs" / str(i)).mkdir(mode=0o700, parents=True)

        def env_of(i):
            return env if shared else {**env, "XDG_RUNTIME_DIR": str(tmp_path / "dirs" / str(i))}

        workers = start_ready_workers(8, *args, env_of=env_of)
        spend_until(sandbox, remaining=5)
        sandbox.clear_exchanges()
        results = finish(go(workers))
        statuses = [e.status for e in sandbox.exchanges]
    if shared:
        for returncode, output in results:
            assert returncode == 0, output
            assert output["count"] == 60, output
        assert statuses.count(429) <= 1, statuses
        assert statuses.count(200) == 8 * 6
    else:
        assert statuses.count(429) > 1, statuses


def test_a_slow_worker_does_not_hold_back_the_others(sandbox):
    """One run with --rate-limit 0.001 (its next request would wait 1000 s), then another at the
    default rate on the same token: the second goes at once (it shares pauses, not the slow rate)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env["PINTEREST_ACCESS_TOKEN"] = sandbox.access_token
    run = [CLI, "run", "list_boards", "--base-url", sandbox.base_url, "--deadline", "5"]
    for extra in (["--rate-limit", "0.001"], []):
        done = subprocess.run([*run, *extra], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert [e.status for e in sandbox.exchanges] == [200, 200]


def test_a_holder_stopped_mid_update_does_not_hang_the_machine(tmp_path, monkeypatch):
    import fcntl

    from modulex_pinterest.host import machine_budget

    budget = MachineRateBudget(tmp_path)
    budget.reserve("k", 20, 60)
    (name,) = os.listdir(tmp_path)
    with open(tmp_path / name, "rb") as held:  # another open file: its flock excludes the budget's
        fcntl.flock(held, fcntl.LOCK_EX)
        monkeypatch.setattr(machine_budget, "LOCK_WAIT", 0.2)
        with pytest.raises(BudgetDirectoryError, match="locked by another process"):
            budget.reserve("k", 20, 60)
    budget.reserve("k", 20, 60)  # released: on it goes
    assert budget.reserve("k", 20, 60) > 0
