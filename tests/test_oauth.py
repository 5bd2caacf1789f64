"""OAuth 2.0 credentials against the sandbox's token endpoint: refresh before
expiry and on a 401, rotation stored by compare-and-swap under the store's
lease, one refresh for many threads, failures that stop, callers that get
nothing, the credentials file, and the login helper end to end."""

import base64
import contextlib
import gzip
import json
import logging
import os
import queue
import socket
import stat
import subprocess
import threading
import time
from urllib.parse import parse_qs, quote, quote_plus, unquote_plus, urlsplit

import pytest
import requests

from modulex_pinterest.apps.login import LoginError, login
from modulex_pinterest.host import CredentialsFile, Host, MemoryStore, StoreError
from raw_server import RawServer, http_answer
from scripted_server import Reply
from test_cli import CLI, cli, strict_json

TOKEN_PATH = "/v5/oauth/token"
SCOPES = ["boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read"]


class WatchedStore(MemoryStore):
    """A memory store that notes how many requests the sandbox had seen when each write landed."""

    def __init__(self, credentials, sandbox=None):
        super().__init__(credentials)
        self.sandbox = sandbox
        self.writes = []

    def swap(self, presented_refresh_token, credentials):
        stored = super().swap(presented_refresh_token, credentials)
        self.writes.append((stored, len(self.sandbox.exchanges) if self.sandbox else None))
        return stored


def authorize(sandbox):
    """What a finished login leaves: tokens from a real authorization-code exchange."""
    redirect_uri = "http://127.0.0.1:8085/"
    code = sandbox.issue_authorization_code(sandbox.app_id, redirect_uri, SCOPES)
    answer = requests.post(
        f"{sandbox.base_url}/oauth/token",
        auth=(sandbox.app_id, sandbox.app_secret),
        timeout=5,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
    )
    answer.raise_for_status()
    tokens = answer.json()
    return {
        "mode": "oauth2",
        "app_id": sandbox.app_id,
        "app_secret": sandbox.app_secret,
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": int(time.time()) + tokens["expires_in"],
    }


def token_requests(sandbox):
    return [e for e in sandbox.exchanges if e.path == TOKEN_PATH]


def run_oauth(host, sandbox, store, action="list_boards", inputs=None, credentials=None, **settings):
    return host.run(
        "pinterest", action, inputs or {}, credentials, dict(settings, base_url=sandbox.base_url), store=store
    )


def test_an_expired_token_is_refreshed_once_and_stored_before_it_is_used(host, sandbox):
    credentials = authorize(sandbox)
    store = WatchedStore(dict(credentials, expires_at=int(time.time()) - 10), sandbox)
    sandbox.clear_exchanges()
    out = run_oauth(host, sandbox, store)
    assert out["success"], out
    (refresh,) = token_requests(sandbox)
    form = parse_qs(refresh.body.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": [credentials["refresh_token"]],
        "continuous_refresh": ["true"],
    }
    assert refresh.headers["Authorization"].startswith("Basic ")
    updated = store.read()
    assert updated["access_token"] != credentials["access_token"]
    assert updated["refresh_token"] != credentials["refresh_token"]  # rotated
    assert updated["expires_at"] > time.time() + 3600
    assert updated["app_secret"] == credentials["app_secret"] and updated["mode"] == "oauth2"
    boards_call = [e for e in sandbox.exchanges if e.path == "/v5/boards"][0]
    assert boards_call.headers["Authorization"] == f"Bearer {updated['access_token']}"
    # The order matters: a "refreshing" note before the token request (for whoever takes the
    # lease if this worker dies), then the new tokens, stored before the new access token was used.
    assert store.writes == [(True, 0), (True, 1)] and sandbox.exchanges.index(boards_call) == 1
    assert "refreshing" not in updated and "rejected" not in updated
    assert not sandbox.grant_revoked(updated["refresh_token"])


def test_missing_access_token_is_fetched_with_the_refresh_token(host, sandbox):
    credentials = authorize(sandbox)
    del credentials["access_token"], credentials["expires_at"]
    store = MemoryStore(credentials)
    sandbox.clear_exchanges()
    assert run_oauth(host, sandbox, store)["success"]
    assert store.read()["access_token"] and len(token_requests(sandbox)) == 1


def test_a_401_refreshes_once_and_the_call_succeeds(host, sandbox):
    credentials = authorize(sandbox)
    sandbox.expire_access_token(credentials["access_token"])  # Pinterest revoked it early
    store = MemoryStore(credentials)
    sandbox.clear_exchanges()
    out = run_oauth(host, sandbox, store)
    assert out["success"], out
    assert [e.status for e in sandbox.exchanges] == [401, 200, 200]
    assert store.read()["refresh_token"] != credentials["refresh_token"]


def test_a_missing_scope_is_not_fixed_by_refreshing(host, sandbox):
    credentials = authorize(sandbox)
    sandbox.add_access_token("pina_readonly", scopes=("boards:read", "pins:read"))
    store = MemoryStore(dict(credentials, access_token="pina_readonly"))
    sandbox.clear_exchanges()
    out = run_oauth(
        host,
        sandbox,
        store,
        "create_pin",
        {"board_id": sandbox.boards[0]["id"], "title": "t", "media_url": "https://e.com/a.jpg"},
    )
    assert out["error"].startswith("Authentication failed: the token lacks a required scope")
    assert token_requests(sandbox) == [] and store.read()["access_token"] == "pina_readonly"


def test_invalid_grant_is_remembered_so_the_dead_token_is_never_presented_again(host, sandbox):
    stored = dict(authorize(sandbox), refresh_token="pinr_revoked", expires_at=1)
    store = MemoryStore(stored)
    sandbox.clear_exchanges()
    for _ in range(3):
        out = run_oauth(host, sandbox, store)
        assert out["success"] is False
        assert out["error"].startswith("Authentication failed") and "invalid_grant" in out["error"]
        assert "Re-authorize the app" in out["error"] and "auth login --credentials" in out["error"]
    assert len(token_requests(sandbox)) == 1  # the later actions failed at once, sending nothing
    assert [e for e in sandbox.exchanges if e.path == "/v5/boards"] == []
    remembered = store.read()
    assert {k: v for k, v in remembered.items() if k != "rejected"} == stored
    assert remembered["rejected"]["why"] == "invalid_grant" and "pinr_revoked" not in json.dumps(remembered["rejected"])
    # New credentials stored (a login, an import) end it.
    store.save(dict(authorize(sandbox), expires_at=1))
    sandbox.clear_exchanges()
    assert run_oauth(host, sandbox, store)["success"] and len(token_requests(sandbox)) == 1
    assert "rejected" not in store.read()


def test_twenty_threads_on_an_expired_token_cause_one_refresh(host, sandbox):
    store = WatchedStore(dict(authorize(sandbox), expires_at=1))
    stale = store.read()
    sandbox.clear_exchanges()
    results = []
    # Every thread passes the same stale credentials, as workers that read the store at once would.
    threads = [
        threading.Thread(target=lambda: results.append(run_oauth(host, sandbox, store, credentials=stale)))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20 and all(r["success"] for r in results), results
    assert len(token_requests(sandbox)) == 1 and store.writes == [(True, None), (True, None)]


def test_a_worker_that_read_the_store_just_before_a_refresh_uses_the_stored_tokens(host, sandbox):
    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    stale = store.read()
    sandbox.clear_exchanges()
    assert run_oauth(host, sandbox, store)["success"]
    # The old refresh token is already rotated: presenting it would revoke the grant.
    assert run_oauth(host, sandbox, store, credentials=stale)["success"]
    assert len(token_requests(sandbox)) == 1 and not sandbox.grant_revoked(store.read()["refresh_token"])


def test_a_worker_whose_read_predates_two_refreshes_uses_what_the_store_holds_now(host, sandbox):
    """The store is the host's word for the connection: a worker that read it before any
    number of refreshes gets the stored tokens, not a false invalid_grant."""
    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    ancient = store.read()
    assert host.refresh("pinterest", store, {"base_url": sandbox.base_url})["success"]
    assert host.refresh("pinterest", store, {"base_url": sandbox.base_url})["success"]
    current = store.read()
    sandbox.clear_exchanges()
    out = run_oauth(host, sandbox, store, credentials=ancient)
    assert out["success"] is True, out
    assert token_requests(sandbox) == [] and store.read() == current
    (boards_call,) = sandbox.exchanges
    assert boards_call.headers["Authorization"] == f"Bearer {current['access_token']}"
    assert sandbox.revoked_grants == 0


def test_the_old_refresh_token_attack_gets_nothing_from_two_hosts_or_two_callers(host, sandbox):
    """A caller holding only the public app id and an old, rotated refresh
    token: before contract v2 the plugin's process-wide rotation memory
    handed it the victim's current credentials."""
    victim = MemoryStore(dict(authorize(sandbox), expires_at=1))
    old = victim.read()
    assert run_oauth(host, sandbox, victim)["success"]
    current = victim.read()
    attacker = {"mode": "oauth2", "app_id": old["app_id"], "refresh_token": old["refresh_token"]}
    other_host = Host()
    sandbox.clear_exchanges()
    outputs = [
        run_oauth(h, sandbox, store, credentials=attacker)
        for h in (host, other_host)
        for store in (None, MemoryStore(attacker), victim)
    ]
    for out in outputs:
        assert out["success"] is False and out["boards"] == []
        text = json.dumps(out)
        assert current["access_token"] not in text and current["refresh_token"] not in text
    assert sandbox.exchanges == []  # nothing was sent for any of them
    assert victim.read() == current and not sandbox.grant_revoked(current["refresh_token"])


def test_a_lease_held_elsewhere_past_the_wait_fails_retryably_and_never_refreshes_without_it(host, sandbox):
    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    sandbox.clear_exchanges()
    with store.lease(ttl=60, wait=0) as held:  # another worker is refreshing, and stalls
        assert held
        out = run_oauth(host, sandbox, store, deadline=0.1)
    assert out["success"] is False and "another worker held this connection's refresh lease" in out["error"]
    assert "Retry" in out["error"] and sandbox.exchanges == []


def test_a_host_without_a_store_gets_a_clear_error_and_no_token_request(host, sandbox):
    credentials = dict(authorize(sandbox), expires_at=1)
    sandbox.clear_exchanges()
    out = run_oauth(host, sandbox, None, credentials=credentials)
    assert out["success"] is False and "the host has no credential store" in out["error"]
    assert sandbox.exchanges == []
    # A current access token needs no store.
    assert run_oauth(host, sandbox, None, credentials=dict(credentials, expires_at=None))["success"]


def test_stored_credentials_of_another_app_secret_are_not_handed_out(host, sandbox):
    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    guess = dict(store.read(), app_secret="not-the-secret")
    sandbox.clear_exchanges()
    out = run_oauth(host, sandbox, store, credentials=guess)
    assert out["success"] is False and "do not match the ones stored" in out["error"]
    assert sandbox.exchanges == []


def test_a_refresh_that_times_out_is_not_resent(host, sandbox, wait_until):
    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    before = store.read()
    sandbox.clear_exchanges()
    sandbox.inject_fault("delay", delay=0.5, path_prefix=TOKEN_PATH)
    out = run_oauth(host, sandbox, store, timeout=0.1)
    assert out["success"] is False and "could not refresh" in out["error"] and "not resent" in out["error"]
    # Only a note for the next worker: a refresh of this token was sent and its outcome is unknown.
    after = store.read()
    assert {k: v for k, v in after.items() if k != "refreshing"} == before and after["refreshing"]["token"]
    # The sandbox records the delayed refresh once its delay is over, as it rotates the tokens.
    (refresh,) = wait_until(lambda: token_requests(sandbox))
    assert refresh.status == 200 and refresh.fault == "delay"
    assert len(token_requests(sandbox)) == 1 and sandbox.revoked_grants == 0


@pytest.mark.parametrize(
    "answer, keeps_refresh, expires",
    [
        ({"access_token": "pina_new", "token_type": "bearer", "expires_in": 0}, True, None),
        ({"access_token": "pina_new", "token_type": "bearer"}, True, None),
        ({"access_token": "pina_new", "refresh_token": "pinr_new", "expires_in": 3600}, False, 3600),
    ],
)
def test_token_answers_without_refresh_token_or_lifetime(host, server, answer, keeps_refresh, expires):
    server.script(
        Reply(body=answer), Reply(body={"items": [], "bookmark": None}), Reply(body={"items": [], "bookmark": None})
    )
    old = "pinr_old"
    store = MemoryStore({"mode": "oauth2", "app_id": "1", "app_secret": "s3cret", "refresh_token": old})
    out = host.run("pinterest", "list_boards", {}, None, {"base_url": server.base_url}, store=store)
    assert out["success"], out
    updated = store.read()
    assert updated["refresh_token"] == (old if keeps_refresh else "pinr_new")
    if expires is None:
        assert "expires_at" not in updated
        # No lifetime: the next call uses the token as it is, no refresh loop.
        assert host.run("pinterest", "list_boards", {}, None, {"base_url": server.base_url}, store=store)["success"]
        assert [r.path for r in server.requests] == ["/v5/oauth/token", "/v5/boards", "/v5/boards"]
    else:
        assert updated["expires_at"] >= time.time() + expires - 5


def test_no_secret_in_any_log_line(host, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    credentials = store.read()
    first = run_oauth(host, sandbox, store)
    bad = run_oauth(host, sandbox, MemoryStore(dict(credentials, refresh_token="pinr_revoked_secret", expires_at=1)))
    secrets = [
        credentials["app_secret"],
        credentials["refresh_token"],
        credentials["access_token"],
        store.read()["refresh_token"],
        store.read()["access_token"],
        "pinr_revoked_secret",
    ]
    text = caplog.text + repr([r.__dict__ for r in caplog.records]) + repr(first) + repr(bad) + repr(store)
    for secret in secrets:
        assert secret not in text


@contextlib.contextmanager
def read_only(folder):
    """A folder nobody can write, root included (root ignores mode bits, not the immutable flag)."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (chattr +i failed)")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def test_a_read_only_folder_does_not_burn_the_refresh_token(host, sandbox, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "credentials.json"
    credentials = dict(authorize(sandbox), expires_at=1)
    path.write_text(json.dumps(credentials))
    sandbox.clear_exchanges()
    with read_only(folder):
        out = run_oauth(host, sandbox, CredentialsFile(path))
    assert out["success"] is False and "cannot write to" in out["error"] and "not attempted" in out["error"]
    assert sandbox.exchanges == [] and json.loads(path.read_text()) == credentials


def test_a_symlinked_credentials_file_stays_a_symlink(host, sandbox, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "pinterest.json"
    target.write_text(json.dumps(dict(authorize(sandbox), expires_at=1)))
    link = tmp_path / "pinterest.json"
    link.symlink_to(target)
    assert run_oauth(host, sandbox, CredentialsFile(link))["success"]
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["expires_at"] > time.time()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_credentials_file_is_replaced_atomically_with_0600(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"mode": "oauth2", "refresh_token": "old"}))
    path.chmod(0o644)
    before = path.stat().st_ino
    store = CredentialsFile(str(path))
    assert store.swap("old", {"mode": "oauth2", "refresh_token": "new"})
    assert json.loads(path.read_text())["refresh_token"] == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != before  # a new file renamed into place, not rewritten in place
    assert not store.swap("old", {"mode": "oauth2", "refresh_token": "newer"})  # compare-and-swap
    assert json.loads(path.read_text())["refresh_token"] == "new"
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == ["credentials.json"]
    assert "new" not in repr(store)


def test_cli_refresh_rewrites_the_credentials_file(tmp_path, sandbox):
    path = tmp_path / "credentials.json"
    credentials = authorize(sandbox)
    path.write_text(json.dumps(credentials))
    result = cli("auth", "refresh", "--credentials", str(path), "--base-url", sandbox.base_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stored = json.loads(path.read_text())
    assert stored["refresh_token"] != credentials["refresh_token"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for secret in (credentials["app_secret"], stored["refresh_token"], stored["access_token"]):
        assert secret not in result.stdout + result.stderr
    # run with the file: an expired token is refreshed and the file follows the rotation
    path.write_text(json.dumps(dict(stored, expires_at=1)))
    result = cli("run", "list_boards", "--credentials", str(path), "--base-url", sandbox.base_url, cwd=tmp_path)
    assert result.returncode == 0 and json.loads(path.read_text())["refresh_token"] != stored["refresh_token"]


def _start_login(tmp_path, sandbox=None, *, base_url=None, app=None, credentials=None, port="0", env=None):
    """``auth login`` in a process, against the sandbox or any loopback server; returns it and the URL it printed."""
    app_id, app_secret = app or (sandbox.app_id, sandbox.app_secret)
    secret_file = tmp_path / "secret"
    secret_file.write_text(app_secret + "\n")
    secret_file.chmod(0o600)  # else the login warns that other users can read it
    proc = subprocess.Popen(
        [
            CLI,
            "auth",
            "login",
            "--app-id",
            app_id,
            "--app-secret-file",
            str(secret_file),
            "--credentials",
            str(credentials or tmp_path / "credentials.json"),
            "--base-url",
            base_url or sandbox.base_url,
            "--port",
            port,
            "--wait",
            "20",
            "--no-browser",  # the test is the browser, even on a machine with a display
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=None if env is None else {**os.environ, **env},
    )
    for line in proc.stderr:  # what the login says goes to stderr; stdout holds only the result
        if line.startswith("http"):
            return proc, line.strip()
    raise AssertionError(proc.stdout.read())


def _redirect(url, **params):
    """What the browser does after the consent page: GET the redirect_uri, with the login's state unless told."""
    query = parse_qs(urlsplit(url).query)
    return requests.get(query["redirect_uri"][0], params={"state": query["state"][0], **params}, timeout=10)


def test_login_end_to_end_against_the_sandbox(tmp_path, sandbox):
    proc, url = _start_login(tmp_path, sandbox)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(sandbox.root_url + "/oauth/?")
    assert query["response_type"] == ["code"] and query["client_id"] == [sandbox.app_id]
    assert query["scope"] == [",".join(SCOPES)] and len(query["state"][0]) >= 32
    assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"
    browser = requests.get(url, timeout=10)  # the sandbox's consent page redirects to the loopback listener
    assert browser.status_code == 200 and "Authorized" in browser.text
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    path = tmp_path / "credentials.json"
    stored = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored["mode"] == "oauth2" and stored["app_id"] == sandbox.app_id and stored["refresh_token"]
    assert stored["access_token"] not in out + err and sandbox.app_secret not in out + err
    host = Host()
    assert host.check("pinterest", stored, {"base_url": sandbox.base_url})["success"]


def test_a_traced_login_and_refresh_show_no_secret_token_or_code(tmp_path, sandbox):
    """MODULEX_TRACE_HOOKS=1 prints every hook call and result: the code exchange's
    arguments and answer, and a refresh's, hold every secret there is."""
    proc, url = _start_login(tmp_path, sandbox, env={"MODULEX_TRACE_HOOKS": "1"})
    assert requests.get(url, timeout=10).status_code == 200
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    stored = json.loads((tmp_path / "credentials.json").read_text())
    (exchange,) = token_requests(sandbox)
    code = parse_qs(exchange.body.decode())["code"][0]
    refreshed = subprocess.run(
        [CLI, "auth", "refresh", "--credentials", str(tmp_path / "credentials.json"), "--base-url", sandbox.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MODULEX_TRACE_HOOKS": "1"},
    )
    assert refreshed.returncode == 0, refreshed.stderr
    newest = json.loads((tmp_path / "credentials.json").read_text())
    traced = err + refreshed.stderr
    assert "[modulex] call modulex_exchange_authorization_code" in traced
    assert "[modulex] done modulex_refresh_credentials" in traced
    basic = base64.b64encode(f"{sandbox.app_id}:{sandbox.app_secret}".encode()).decode()
    for secret in (
        sandbox.app_secret,
        code,
        basic,
        *(c[k] for c in (stored, newest) for k in ("access_token", "refresh_token")),
    ):
        assert secret not in traced + out + refreshed.stdout


def test_login_ignores_foreign_and_wrong_state_requests_until_the_right_redirect(tmp_path, sandbox):
    proc, url = _start_login(tmp_path, sandbox)
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    forged = requests.get(redirect_uri, params={"code": "stolen", "state": "not-the-one"}, timeout=10)
    assert forged.status_code == 400 and "did not match" in forged.text and "ignored" in forged.text
    assert requests.get(redirect_uri, params={"code": "stolen"}, timeout=10).status_code == 400  # no state
    assert requests.get(redirect_uri + "favicon.ico", timeout=10).status_code == 404
    with socket.create_connection((urlsplit(redirect_uri).hostname, urlsplit(redirect_uri).port)):  # says nothing
        assert proc.poll() is None
        browser = requests.get(url, timeout=10)  # the right redirect, through the sandbox's consent page
    assert browser.status_code == 200 and "Authorized" in browser.text
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert strict_json(out[out.index("{") :])["success"] is True
    assert json.loads((tmp_path / "credentials.json").read_text())["refresh_token"]
    (exchange,) = [e for e in sandbox.exchanges if e.path == TOKEN_PATH]
    assert b"stolen" not in exchange.body


@pytest.mark.parametrize("where", ["missing folder", "parent is a file", "read-only folder"])
def test_login_checks_the_credentials_folder_before_the_browser_step(tmp_path, sandbox, where):
    folder = {
        "missing folder": tmp_path / "nope",
        "parent is a file": tmp_path / "file",
        "read-only folder": tmp_path / "ro",
    }[where]
    if where == "parent is a file":
        folder.write_text("")
    elif where == "read-only folder":
        folder.mkdir()
    (tmp_path / "secret").write_text(sandbox.app_secret)
    (tmp_path / "secret").chmod(0o600)
    with socket.create_server(("127.0.0.1", 0)) as taken, contextlib.ExitStack() as stack:
        if where == "read-only folder":
            stack.enter_context(read_only(folder))
        # The port is in use: had the login tried to listen before checking, it would fail on that instead.
        result = cli(
            "auth",
            "login",
            "--app-id",
            sandbox.app_id,
            "--app-secret-file",
            str(tmp_path / "secret"),
            "--credentials",
            str(folder / "credentials.json"),
            "--base-url",
            sandbox.base_url,
            "--port",
            str(taken.getsockname()[1]),
            "--wait",
            "5",
            cwd=tmp_path,
        )
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and f"cannot store credentials in {folder}:" in result.stderr
    assert "nothing was authorized" in result.stderr and sandbox.exchanges == []


def _token_endpoint(answer):
    """A raw server whose token endpoint answers ``answer(request)`` (bytes), and 404 elsewhere."""

    def serve(conn, request):
        conn.sendall(answer(request) if request.path == "/v5/oauth/token" else http_answer(404, reason="Not Found"))
        return False

    return RawServer(serve)


def _gzip_bomb(request):
    body = gzip.compress(b'{"access_token": "' + b"a" * (25 * 1024 * 1024) + b'"}', compresslevel=9)
    return http_answer(200, body, ["Content-Type: application/json", "Content-Encoding: gzip"])


def _huge_json(request):
    return http_answer(
        200, b'{"access_token": "pina_' + b"a" * (21 * 1024 * 1024) + b'"}', ["Content-Type: application/json"]
    )


@pytest.mark.parametrize("answer", [_gzip_bomb, _huge_json])
def test_a_huge_token_answer_fails_the_login_in_bounded_time_and_stores_nothing(tmp_path, answer):
    with _token_endpoint(answer) as server:
        proc, url = _start_login(tmp_path, base_url=server.base_url, app=("1234", "app-secret-5ec7e7"))
        started = time.monotonic()
        assert _redirect(url, code="the-code-5ec7e7").status_code == 200
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and time.monotonic() - started < 20
    assert "login failed" in err and "could not exchange the authorization code" in err and "larger than" in err
    (failed,) = [line for line in err.splitlines() if "error:" in line]  # beside the server's name and a note
    assert failed.startswith("modulex-pinterest: error: login failed: ") and "Traceback" not in err
    assert [r.path for r in server.requests if r.method != "HEAD"] == ["/v5/oauth/token"]  # HEAD: the page probed
    assert not (tmp_path / "credentials.json").exists()


def _echo(request):
    """A token endpoint that puts what it was sent in its error message, decoded and not."""
    basic = request.headers["authorization"].split()[1]
    message = (
        f"bad request: {request.body.decode()} {unquote_plus(request.body.decode())} "
        f"authorization={request.headers['authorization']} decoded={base64.b64decode(basic).decode()}"
    )
    body = json.dumps({"code": 1, "message": message, "error": "invalid_request"}).encode()
    return http_answer(400, body, ["Content-Type: application/json"], reason="Bad Request")


def test_login_errors_never_show_the_code_secret_or_basic_credentials_echoed_back(tmp_path):
    app_id, app_secret, code = "1234", "app/secret+5ec7e7=", "c0de/with+special=chars&more"
    with _token_endpoint(_echo) as server:
        proc, url = _start_login(tmp_path, base_url=server.base_url, app=(app_id, app_secret))
        assert _redirect(url, code=code).status_code == 200
        out, err = proc.communicate(timeout=30)
    (sent,) = [r for r in server.requests if r.method != "HEAD"]  # HEAD: the authorization page probed
    assert proc.returncode == 1 and "could not exchange the authorization code" in err and "400" in err
    basic = sent.headers["authorization"].split()[1]
    assert base64.b64decode(basic).decode() == f"{app_id}:{app_secret}"
    for secret in (
        code,
        quote_plus(code),
        quote(code, safe=""),
        app_secret,
        quote_plus(app_secret),
        basic,
        basic.rstrip("="),
        sent.headers["authorization"],
    ):
        assert secret not in out + err, secret
    assert not (tmp_path / "credentials.json").exists()


def test_a_store_that_fails_after_the_exchange_is_a_clean_error_without_the_tokens(tmp_path, sandbox):
    folder = tmp_path / "store"
    folder.mkdir()
    proc, url = _start_login(tmp_path, sandbox, credentials=folder / "credentials.json")
    with read_only(folder):  # writable when checked, not any more when the tokens arrive
        assert requests.get(url, timeout=10).status_code == 200
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1 and "the credentials could not be stored" in err and "authorize again" in err
    (exchange,) = [e for e in sandbox.exchanges if e.path == TOKEN_PATH]
    tokens = json.loads(exchange.response_body)
    for secret in (tokens["access_token"], tokens["refresh_token"], sandbox.app_secret):
        assert secret not in out + err
    assert "Traceback" not in err and not (folder / "credentials.json").exists()


class EchoingStore(MemoryStore):
    """A store whose failure repeats the credentials it was given, as a careless one might."""

    def save(self, credentials):
        raise StoreError(f"refused {json.dumps(credentials)}")


@pytest.mark.parametrize("fails", ["exchange", "store"])
def test_login_masks_secrets_a_host_or_store_lets_through(fails):
    """login()'s own layer, for a host whose plugin does not redact and a store that echoes."""
    app_id, app_secret, code = "1234", "app/secret+5ec7e7=", "c0de/with+special=chars"
    basic = f"{app_id}:{app_secret}".encode()
    tokens = {"access_token": "tok-access-5ec7e7", "refresh_token": "tok-refresh-5ec7e7"}
    echoed = [
        code,
        quote_plus(code),
        quote(code, safe=""),
        app_secret,
        quote_plus(app_secret),
        base64.b64encode(basic).decode(),
        base64.urlsafe_b64encode(basic).decode().rstrip("="),
    ]

    def exchange(app, got_code, redirect_uri):
        if fails == "exchange":
            return {"success": False, "error": "echo: " + " ".join(echoed) + " \x1b[2J"}
        return {"success": True, "credentials": dict(app, **tokens)}

    lines, outcome = queue.Queue(), {}

    def run():
        try:
            login(
                {"scopes": ["boards:read"], "authorization_url": "https://example.invalid/oauth/"},
                app_id,
                app_secret,
                EchoingStore(),
                exchange,
                port=0,
                wait=20,
                say=lines.put,
            )
        except LoginError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=run)
    thread.start()
    url = next(line for line in iter(lambda: lines.get(timeout=10), None) if line.startswith("http"))
    assert _redirect(url, code=code).status_code == 200
    thread.join(timeout=20)
    error = outcome["error"]
    for secret in [*echoed, *tokens.values()]:
        assert secret not in error, secret
    assert "\x1b" not in error and "[redacted]" in error


def test_login_uses_the_sandbox_named_in_the_environment_and_times_out_with_a_hint(tmp_path, sandbox):
    (tmp_path / "secret").write_text(sandbox.app_secret)
    (tmp_path / "secret").chmod(0o600)
    result = cli(
        "auth",
        "login",
        "--app-id",
        sandbox.app_id,
        "--app-secret-file",
        str(tmp_path / "secret"),
        "--credentials",
        str(tmp_path / "credentials.json"),
        "--port",
        "0",
        "--wait",
        "0.2",
        cwd=tmp_path,
        env={"PINTEREST_BASE_URL": sandbox.base_url},
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{sandbox.root_url}/oauth/?client_id={sandbox.app_id}&" in result.stderr  # the sandbox's page
    assert result.stdout == ""  # stdout is for the result alone
    assert result.stderr.splitlines()[-1] == (
        "modulex-pinterest: error: login failed: no answer from the browser in 0.2 s; if its page showed an error "
        "(an app id or a redirect URI the server does not know, say), correct that and run the login again"
    )
