"""OAuth 2.0 credentials against the sandbox's token endpoint: refresh before
expiry and on a 401, rotation handed to the host, single flight, failures
that stop, the credentials file, and the login helper end to end."""

import json
import logging
import stat
import subprocess
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from modulex_pinterest.hookspecs import hookimpl
from modulex_pinterest.host import CredentialsFile, Host
from scripted_server import Reply
from test_cli import CLI, cli

TOKEN_PATH = "/v5/oauth/token"
SCOPES = ["boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read"]


class Recorder:
    """A host-side plugin that records every credentials update."""

    def __init__(self):
        self.updates = []

    @hookimpl
    def modulex_credentials_updated(self, plugin, credentials):
        self.updates.append((plugin, dict(credentials)))


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def oauth_host(recorder):
    return Host(plugins=[recorder])


def authorize(sandbox):
    """What a finished login leaves: tokens from a real authorization-code exchange."""
    redirect_uri = "http://127.0.0.1:8085/"
    code = sandbox.issue_authorization_code(sandbox.app_id, redirect_uri, SCOPES)
    answer = requests.post(f"{sandbox.base_url}/oauth/token", auth=(sandbox.app_id, sandbox.app_secret), timeout=5,
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    answer.raise_for_status()
    tokens = answer.json()
    return {"mode": "oauth2", "app_id": sandbox.app_id, "app_secret": sandbox.app_secret,
            "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
            "expires_at": int(time.time()) + tokens["expires_in"]}


def token_requests(sandbox):
    return [e for e in sandbox.exchanges if e.path == TOKEN_PATH]


def run_oauth(host, sandbox, credentials, action="list_boards", inputs=None, **settings):
    return host.run("pinterest", action, inputs or {}, credentials, dict(settings, base_url=sandbox.base_url))


def test_an_expired_token_is_refreshed_once_then_used_and_the_host_gets_the_new_tokens(oauth_host, recorder, sandbox):
    credentials = authorize(sandbox)
    sandbox.clear_exchanges()
    stale = dict(credentials, expires_at=int(time.time()) - 10)
    out = run_oauth(oauth_host, sandbox, stale)
    assert out["success"], out
    (refresh,) = token_requests(sandbox)
    form = parse_qs(refresh.body.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": [credentials["refresh_token"]],
                    "continuous_refresh": ["true"]}
    assert refresh.headers["Authorization"].startswith("Basic ")
    (plugin, updated), = recorder.updates
    assert plugin == "pinterest"
    assert updated["access_token"] != credentials["access_token"]
    assert updated["refresh_token"] != credentials["refresh_token"]  # rotated
    assert updated["expires_at"] > time.time() + 3600
    assert updated["app_secret"] == credentials["app_secret"] and updated["mode"] == "oauth2"
    boards_call = [e for e in sandbox.exchanges if e.path == "/v5/boards"][0]
    assert boards_call.headers["Authorization"] == f"Bearer {updated['access_token']}"
    # The order matters: the host had the new tokens before the new access token was used.
    assert sandbox.exchanges.index(refresh) < sandbox.exchanges.index(boards_call)


def test_missing_access_token_is_fetched_with_the_refresh_token(oauth_host, recorder, sandbox):
    credentials = authorize(sandbox)
    del credentials["access_token"], credentials["expires_at"]
    assert run_oauth(oauth_host, sandbox, credentials)["success"]
    assert len(recorder.updates) == 1


def test_a_401_refreshes_once_and_the_call_succeeds(oauth_host, recorder, sandbox):
    credentials = authorize(sandbox)
    sandbox.expire_access_token(credentials["access_token"])  # Pinterest revoked it early
    sandbox.clear_exchanges()
    out = run_oauth(oauth_host, sandbox, credentials)
    assert out["success"], out
    assert [e.status for e in sandbox.exchanges] == [401, 200, 200]
    assert len(token_requests(sandbox)) == 1 and len(recorder.updates) == 1


def test_a_missing_scope_is_not_fixed_by_refreshing(oauth_host, recorder, sandbox):
    credentials = authorize(sandbox)
    sandbox.add_access_token("pina_readonly", scopes=("boards:read", "pins:read"))
    credentials["access_token"] = "pina_readonly"
    sandbox.clear_exchanges()
    out = run_oauth(oauth_host, sandbox, credentials, "create_pin",
                    {"board_id": sandbox.boards[0]["id"], "title": "t", "media_url": "https://e.com/a.jpg"})
    assert out["error"].startswith("Authentication failed: the token lacks a required scope")
    assert token_requests(sandbox) == [] and recorder.updates == []


def test_invalid_grant_gives_one_clear_error_and_is_not_retried(oauth_host, recorder, sandbox):
    credentials = dict(authorize(sandbox), refresh_token="pinr_revoked", expires_at=1)
    sandbox.clear_exchanges()
    first = run_oauth(oauth_host, sandbox, credentials)
    second = run_oauth(oauth_host, sandbox, credentials)
    for out in (first, second):
        assert out["success"] is False
        assert out["error"].startswith("Authentication failed") and "invalid_grant" in out["error"]
        assert "Re-authorize the app" in out["error"]
    assert len(token_requests(sandbox)) == 1  # the rejected refresh token is not presented again
    assert [e for e in sandbox.exchanges if e.path == "/v5/boards"] == []
    assert recorder.updates == []


def test_twenty_threads_on_an_expired_token_cause_one_refresh(oauth_host, recorder, sandbox):
    credentials = dict(authorize(sandbox), expires_at=1)
    sandbox.clear_exchanges()
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_oauth(oauth_host, sandbox, credentials)))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20 and all(r["success"] for r in results)
    assert len(token_requests(sandbox)) == 1
    assert len(recorder.updates) == 1


def test_stale_credentials_from_the_host_do_not_cause_a_second_refresh(oauth_host, recorder, sandbox):
    credentials = dict(authorize(sandbox), expires_at=1)
    sandbox.clear_exchanges()
    assert run_oauth(oauth_host, sandbox, credentials)["success"]
    # A host that did not store the update passes the old credentials again:
    # the old refresh token is already rotated, so presenting it would fail.
    assert run_oauth(oauth_host, sandbox, credentials)["success"]
    assert len(token_requests(sandbox)) == 1


def test_a_refresh_that_times_out_is_not_resent(oauth_host, recorder, sandbox):
    credentials = dict(authorize(sandbox), expires_at=1)
    sandbox.clear_exchanges()
    sandbox.inject_fault("delay", delay=1.0, path_prefix=TOKEN_PATH)
    out = run_oauth(oauth_host, sandbox, credentials, timeout=0.3)
    assert out["success"] is False and "could not refresh" in out["error"] and "not resent" in out["error"]
    time.sleep(1.0)
    assert len(token_requests(sandbox)) == 1 and recorder.updates == []


@pytest.mark.parametrize("answer, keeps_refresh, expires", [
    ({"access_token": "pina_new", "token_type": "bearer", "expires_in": 0}, True, None),
    ({"access_token": "pina_new", "token_type": "bearer"}, True, None),
    ({"access_token": "pina_new", "refresh_token": "pinr_new", "expires_in": 3600}, False, 3600),
])
def test_token_answers_without_refresh_token_or_lifetime(oauth_host, recorder, server, answer, keeps_refresh, expires):
    server.script(Reply(body=answer), Reply(body={"items": [], "bookmark": None}),
                  Reply(body={"items": [], "bookmark": None}))
    old = f"pinr_old_{len(answer)}_{expires}"  # refresh tokens are unique per grant; the plugin remembers rotations
    credentials = {"mode": "oauth2", "app_id": "1", "app_secret": "s3cret", "refresh_token": old}
    out = oauth_host.run("pinterest", "list_boards", {}, credentials, {"base_url": server.base_url})
    assert out["success"], out
    (_, updated), = recorder.updates
    assert updated["refresh_token"] == (old if keeps_refresh else "pinr_new")
    if expires is None:
        assert "expires_at" not in updated
        # No lifetime: the next call uses the token as it is, no refresh loop.
        assert oauth_host.run("pinterest", "list_boards", {}, updated, {"base_url": server.base_url})["success"]
        assert [r.path for r in server.requests] == ["/v5/oauth/token", "/v5/boards", "/v5/boards"]
    else:
        assert updated["expires_at"] >= time.time() + expires - 5


def test_no_secret_in_any_log_line(oauth_host, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    credentials = dict(authorize(sandbox), expires_at=1)
    first = run_oauth(oauth_host, sandbox, credentials)
    bad = run_oauth(oauth_host, sandbox, dict(credentials, refresh_token="pinr_revoked_secret", expires_at=1))
    secrets = [credentials["app_secret"], credentials["refresh_token"], credentials["access_token"],
               "pinr_revoked_secret"]
    text = caplog.text + repr([r.__dict__ for r in caplog.records]) + repr(first) + repr(bad)
    for secret in secrets:
        assert secret not in text


def test_credentials_file_is_replaced_atomically_with_0600(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"mode": "oauth2", "refresh_token": "old"}))
    path.chmod(0o644)
    before = path.stat().st_ino
    store = CredentialsFile(str(path))
    store.modulex_credentials_updated(plugin="pinterest", credentials={"mode": "oauth2", "refresh_token": "new"})
    assert json.loads(path.read_text())["refresh_token"] == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != before  # a new file renamed into place, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.json"]
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


def _start_login(tmp_path, sandbox):
    secret_file = tmp_path / "secret"
    secret_file.write_text(sandbox.app_secret + "\n")
    proc = subprocess.Popen([CLI, "auth", "login", "--app-id", sandbox.app_id, "--app-secret-file", str(secret_file),
                             "--credentials", str(tmp_path / "credentials.json"), "--base-url", sandbox.base_url,
                             "--port", "0", "--wait", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    for line in proc.stdout:
        if line.startswith("http"):
            return proc, line.strip()
    raise AssertionError(proc.stderr.read())


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


def test_login_rejects_a_wrong_state(tmp_path, sandbox):
    proc, url = _start_login(tmp_path, sandbox)
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    forged = requests.get(redirect_uri, params={"code": "stolen", "state": "not-the-one"}, timeout=10)
    assert forged.status_code == 400 and "did not match" in forged.text
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1 and "state did not match" in err
    assert not (tmp_path / "credentials.json").exists()
    assert not [e for e in sandbox.exchanges if e.path == TOKEN_PATH]
