"""The Airflow provider (``pip install '.[airflow]'``): discovery through the entry
point, connections turned into credentials or a credential store, and the
operator against the sandbox (its output as XCom value, failures with the
plugin's text, creates failed without Airflow's retries, OAuth 2.0 tokens
rotated into the store). ``.ci/airflow`` runs these in a venv with Airflow,
after ``airflow dags test`` of the example DAG."""

import atexit
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from importlib import metadata

import pytest

if importlib.util.find_spec("airflow") is None:
    pytest.skip(
        "apache-airflow is not installed: .ci/airflow tests the provider in a venv of its own",
        allow_module_level=True,
    )

if "AIRFLOW_HOME" not in os.environ:  # never ~/airflow: a folder of this process's own
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], True)

from airflow.sdk.exceptions import AirflowException, AirflowFailException  # noqa: E402

from modulex_pinterest.airflow import DEFAULT_BASE_URL, conn_fields, get_provider_info  # noqa: E402
from modulex_pinterest.airflow.hooks import PinterestConnectionError, PinterestHook  # noqa: E402
from modulex_pinterest.airflow.operators import PinterestActionOperator  # noqa: E402
from test_oauth import authorize, token_requests  # noqa: E402

CONN_ID = "pinterest_test"
SECRETS = {"app_secret": "app-secret-do-not-leak", "refresh_token": "pinr_refresh-do-not-leak"}


@pytest.fixture
def connection(monkeypatch):
    """connection(host=..., password=..., **extra): define ``pinterest_test`` as AIRFLOW_CONN_ JSON."""

    def _connection(host=None, password=None, **extra):
        fields = {"conn_type": "pinterest", "host": host, "password": password, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({k: v for k, v in fields.items() if v}))

    return _connection


def operator(action, inputs=None, **kwargs):
    return PinterestActionOperator(task_id=action, action=action, inputs=inputs, pinterest_conn_id=CONN_ID, **kwargs)


def test_the_entry_point_offers_the_provider_and_airflow_finds_its_connection_type():
    (entry,) = [e for e in metadata.entry_points(group="apache_airflow_provider") if e.dist.name == "modulex-pinterest"]
    info = entry.load()()
    assert info == get_provider_info() and info["package-name"] == "modulex-pinterest"
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "pinterest"
    assert conn_type["hook-class-name"] == "modulex_pinterest.airflow.hooks.PinterestHook"

    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["pinterest"]  # what a task's BaseHook.get_hook finds
    assert (hook.hook_class_name, hook.connection_id_attribute_name) == (
        "modulex_pinterest.airflow.hooks.PinterestHook",
        "pinterest_conn_id",
    )
    manager = ProvidersManager()  # the API server's view: the connection form
    assert "modulex-pinterest" in manager.providers
    widgets = manager.connection_form_widgets
    assert {name for name in widgets if name.startswith("extra__pinterest__")} == {
        f"extra__pinterest__{name}" for name in conn_fields()
    }
    assert widgets["extra__pinterest__app_secret"].is_sensitive
    assert not widgets["extra__pinterest__credential_store"].is_sensitive
    behaviour = manager.field_behaviours["pinterest"]
    assert behaviour["relabeling"] == {"host": "API base URL", "password": "Access token"}
    assert behaviour["placeholders"]["host"] == DEFAULT_BASE_URL


def test_the_package_and_its_provider_info_import_no_airflow():
    code = (
        "import sys, modulex_pinterest, modulex_pinterest.airflow as face; face.get_provider_info(); "
        "print([m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')])"
    )
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert answer.stdout.strip() == "[]"


def test_an_access_token_connection(connection):
    connection(host="http://127.0.0.1:9/v5/", password=" pina_token ", deadline=30, unrelated="ignored")
    conn = PinterestHook(CONN_ID, settings={"max_retries": 0}).get_conn()
    assert conn.credentials == {"mode": "access_token", "access_token": "pina_token"}
    assert conn.store is None
    assert conn.settings == {"base_url": "http://127.0.0.1:9/v5", "deadline": 30, "max_retries": 0}
    connection(password="pina_token")  # no host: the plugin's base URL, and its token endpoint
    assert PinterestHook(CONN_ID).get_conn().settings == {}


def test_a_connection_without_any_token_is_refused(connection):
    connection(host="http://127.0.0.1:9/v5")
    with pytest.raises(PinterestConnectionError, match="has no access token: set its password"):
        PinterestHook(CONN_ID).get_conn()


def test_oauth_without_a_credential_store_is_refused_naming_the_field(connection):
    connection(host="http://127.0.0.1:9/v5", app_id="1234", **SECRETS)
    with pytest.raises(PinterestConnectionError, match="has no credential_store: set 'credential_store'") as error:
        PinterestHook(CONN_ID).get_conn()
    assert not any(secret in str(error.value) for secret in SECRETS.values())
    with pytest.raises(AirflowFailException, match="credential_store"):  # no retries: a retry cannot fix it
        operator("list_boards").execute(context={})


def test_oauth_with_an_empty_store_and_no_tokens_says_how_to_log_in(connection, tmp_path):
    store = tmp_path / "pinterest.json"
    connection(app_id="1234", app_secret=SECRETS["app_secret"], credential_store=str(store))
    with pytest.raises(PinterestConnectionError, match=r"no refresh_token .*auth login --credentials"):
        PinterestHook(CONN_ID).get_conn()
    assert not store.exists()


def test_oauth_seeds_an_empty_file_store_once_then_the_store_wins(connection, tmp_path):
    store = tmp_path / "pinterest.json"
    connection(app_id="1234", credential_store=str(store), **SECRETS)
    assert PinterestHook(CONN_ID).get_conn().credentials is None  # read from the store at each call
    seeded = json.loads(store.read_text())
    assert seeded == {"mode": "oauth2", "app_id": "1234", **SECRETS}
    assert store.stat().st_mode & 0o077 == 0
    rotated = dict(seeded, refresh_token="pinr_rotated", access_token="pina_new", expires_at=int(time.time()) + 3600)
    store.write_text(json.dumps(rotated))
    conn = PinterestHook(CONN_ID).get_conn()
    assert conn.store.read() == rotated  # the connection's refresh token is stale now: not written back


@pytest.mark.parametrize("given", [1767171600, "1767171600", "2025-12-31T09:00:00Z", "2025-12-31T10:00:00+01:00"])
def test_a_seeded_access_token_takes_its_expiry_from_the_extra(connection, tmp_path, given):
    store = tmp_path / "pinterest.json"
    connection(app_id="1234", credential_store=str(store), access_token="pina_seeded", expires_at=given, **SECRETS)
    PinterestHook(CONN_ID).get_conn()
    assert json.loads(store.read_text())["expires_at"] == 1767171600


@pytest.mark.parametrize("given", ["tomorrow", "2025-12-31T09:00:00", "1.5e9"])
def test_an_expiry_airflow_cannot_read_names_the_field(connection, tmp_path, given):
    connection(app_id="1234", credential_store=str(tmp_path / "p.json"), expires_at=given, **SECRETS)
    with pytest.raises(PinterestConnectionError, match=r"'expires_at' in its extra must be Unix seconds or an ISO"):
        PinterestHook(CONN_ID).get_conn()
    assert not (tmp_path / "p.json").exists()


def test_the_hook_refreshes_a_stored_grant_ahead_of_expiry(connection, sandbox, tmp_path):
    from test_oauth import authorize

    store = tmp_path / "pinterest.json"
    granted = authorize(sandbox)
    store.write_text(json.dumps(granted))
    connection(host=sandbox.base_url, credential_store=str(store))
    answer = PinterestHook(CONN_ID).refresh_credentials()
    assert answer["success"] is True, answer
    refreshed = json.loads(store.read_text())
    assert refreshed["refresh_token"] != granted["refresh_token"]
    assert not sandbox.grant_revoked(refreshed["refresh_token"])
    assert granted["refresh_token"] not in json.dumps(answer) and refreshed["access_token"] not in json.dumps(answer)


def test_an_access_token_connection_has_nothing_to_refresh(connection):
    connection(password="pina_token")
    with pytest.raises(PinterestConnectionError, match="no grant to refresh"):
        PinterestHook(CONN_ID).refresh_credentials()


def test_a_store_holding_another_apps_grant_is_refused(connection, tmp_path):
    store = tmp_path / "pinterest.json"
    store.write_text(json.dumps({"mode": "oauth2", "app_id": "999", "app_secret": "x", "refresh_token": "pinr_x"}))
    connection(app_id="1234", credential_store=str(store))
    with pytest.raises(PinterestConnectionError, match="another app"):
        PinterestHook(CONN_ID).get_conn()


def test_the_operator_returns_the_output_as_its_xcom_value(connection, sandbox):
    connection(host=sandbox.base_url, password=sandbox.access_token)
    output = operator("list_boards", {"page_size": 2}).execute(context={})
    assert output["success"] is True and output["error"] is None
    assert [board["id"] for board in output["boards"]] == [board["id"] for board in sandbox.boards[:2]]
    assert PinterestActionOperator.template_fields == ("inputs",)


def test_a_failed_list_raises_a_retryable_error_with_the_plugins_text(connection, sandbox, host):
    connection(host=sandbox.base_url, password=sandbox.access_token)
    inputs = {"board_id": sandbox.boards[0]["id"]}
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    sandbox.inject_fault("status", status=503)
    expected = host.run("pinterest", "list_pins", inputs, credentials, {"base_url": sandbox.base_url, "max_retries": 0})
    assert expected["success"] is False and expected["error"]
    sandbox.inject_fault("status", status=503)
    with pytest.raises(AirflowException) as error:
        operator("list_pins", inputs, settings={"max_retries": 0}).execute(context={})
    assert type(error.value) is AirflowException  # not AirflowFailException: Airflow may retry a read
    assert str(error.value) == f"Pinterest list_pins failed: {expected['error']}"


BOARD = "397233545249"
PIN = {"board_id": BOARD, "title": "t", "media_url": "https://example.com/a.jpg"}


@pytest.mark.parametrize(
    "action, inputs, fault, retried",
    [
        ("list_boards", {}, dict(kind="status", status=503), True),
        ("update_board", {"board_id": BOARD, "name": "Renamed"}, dict(kind="status", status=500), True),
        ("create_pin", PIN, dict(kind="status", status=429, headers={"Retry-After": "0"}), True),  # surely not made
        ("create_pin", PIN, dict(kind="status", status=500), False),  # may have been made: never resent
        ("save_pin", {"pin_id": "1", "board_id": BOARD}, dict(kind="drop"), False),
        ("list_pins", {"board_id": "../user_account"}, None, False),  # bad input: a retry cannot help
        ("list_boards", {}, "wrong token", False),  # 401: nor here
    ],
    ids=["read-503", "update-500", "create-429", "create-500", "save-dropped", "bad-input", "bad-token"],
)
def test_airflow_retries_only_what_the_plugin_says_is_safe_to_run_again(
    connection, sandbox, action, inputs, fault, retried
):
    token = "pina_wrong-token" if fault == "wrong token" else sandbox.access_token
    connection(host=sandbox.base_url, password=token)
    if isinstance(fault, dict):
        sandbox.inject_fault(fault.pop("kind"), **fault)
    with pytest.raises(AirflowException, match=f"^Pinterest {action} failed: ") as error:
        operator(action, inputs, settings={"max_retries": 0}).execute(context={})
    assert isinstance(error.value, AirflowFailException) is not retried
    assert "pina_wrong-token" not in str(error.value)


def test_an_unknown_action_fails_without_retries(connection, sandbox):
    connection(host=sandbox.base_url, password=sandbox.access_token)
    with pytest.raises(AirflowFailException, match="no action 'list_everything'"):
        operator("list_everything").execute(context={})


def test_oauth_refreshes_through_the_sandbox_and_the_rotated_token_lands_in_the_store(connection, sandbox, tmp_path):
    grant = authorize(sandbox)
    store = tmp_path / "pinterest.json"
    # the connection seeds the store with its refresh token only: the first run fetches an access token
    connection(
        host=sandbox.base_url,
        app_id=grant["app_id"],
        app_secret=grant["app_secret"],
        refresh_token=grant["refresh_token"],
        credential_store=str(store),
    )
    sandbox.clear_exchanges()
    assert operator("list_boards").execute(context={})["success"]
    assert len(token_requests(sandbox)) == 1
    stored = json.loads(store.read_text())
    assert stored["refresh_token"] != grant["refresh_token"]  # rotated, and kept in the store
    assert stored["expires_at"] > time.time() + 3600
    # the connection still names the first refresh token, now stale: the store wins, nothing is refreshed
    assert operator("list_pins", {"board_id": sandbox.boards[0]["id"]}).execute(context={})["success"]
    assert len(token_requests(sandbox)) == 1
    # an expired access token is refreshed again, from the store's current refresh token
    store.write_text(json.dumps(dict(stored, expires_at=1)))
    assert operator("list_boards").execute(context={})["success"]
    assert len(token_requests(sandbox)) == 2
    assert json.loads(store.read_text())["refresh_token"] not in (stored["refresh_token"], grant["refresh_token"])
    assert not sandbox.grant_revoked(json.loads(store.read_text())["refresh_token"])


def test_the_hooks_connection_test(connection, sandbox, host):
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    account = host.check("pinterest", credentials, {"base_url": sandbox.base_url})["account"]
    assert account
    connection(host=sandbox.base_url, password=sandbox.access_token)
    assert PinterestHook(CONN_ID).test_connection() == (True, f"Connected as {account}")
    connection(host=sandbox.base_url, password="pina_wrong-token")
    ok, message = PinterestHook(CONN_ID).test_connection()
    assert not ok and message and "pina_wrong-token" not in message


def test_a_redis_store_keeps_the_grant_and_the_rate_budget_in_the_same_redis(connection, sandbox, redis_url):
    pytest.importorskip("redis", reason="the redis client is not installed (pip install '.[redis]')")
    from modulex_pinterest.airflow.hooks import shared_host
    from modulex_pinterest.host.redis_budget import RedisRateBudget

    grant = authorize(sandbox)
    spec = f"{redis_url}{'&' if '?' in redis_url else '?'}key=modulex-test:airflow:{uuid.uuid4().hex}"
    connection(
        host=sandbox.base_url,
        app_id=grant["app_id"],
        app_secret=grant["app_secret"],
        refresh_token=grant["refresh_token"],
        credential_store=spec,
    )
    assert operator("list_boards").execute(context={})["success"]
    conn = PinterestHook(CONN_ID).get_conn()
    assert conn.store.read()["refresh_token"] != grant["refresh_token"]  # rotated into Redis
    assert isinstance(shared_host(conn.store).budget, RedisRateBudget)
    assert shared_host(conn.store) is not shared_host(None)  # a file or token connection: the machine's budget


def test_an_execution_timeout_bounds_the_whole_action_so_the_task_reports_before_airflow_kills_it(
    connection, sandbox, monkeypatch
):
    connection(host=sandbox.base_url, password=sandbox.access_token)
    sandbox.inject_fault("hang", count=10, delay=30)
    task = operator("list_boards", execution_timeout=timedelta(seconds=2))
    deadlines = []
    hook_run = PinterestHook.run
    monkeypatch.setattr(
        PinterestHook, "run", lambda self, *a, **kw: deadlines.append(kw["deadline"]) or hook_run(self, *a, **kw)
    )
    started = time.monotonic()
    with pytest.raises(AirflowException, match="^Pinterest list_boards failed: ") as error:
        task.execute(context={})
    # Not timed against the 2 s execution_timeout (a busy machine adds more than the 0.4 s
    # left over, issue 21): the deadline handed to the plugin is under it, and that
    # deadline ended the action (the hang and the read timeout last 30 s, the default deadline 120 s).
    assert len(deadlines) == 1 and 0 < deadlines[0] < 2
    assert "deadline" in str(error.value)
    assert time.monotonic() - started < 15  # a deadline's bound, with a margin for a machine ten times slower


def test_progress_goes_to_the_task_log(connection, sandbox):
    from structlog.testing import capture_logs  # Airflow 3's task loggers are structlog's

    board = sandbox.add_large_board(pin_count=600)
    connection(host=sandbox.base_url, password=sandbox.access_token)
    with capture_logs() as logs:
        output = operator("list_pins", {"board_id": board, "fetch_all": True, "page_size": 250}).execute(context={})
    assert output["count"] == 600
    lines = [entry["event"] % tuple(entry.get("positional_args", ())) for entry in logs]
    assert [line for line in lines if line.startswith("Pinterest: ")] == [
        "Pinterest: page 1: 250 items so far",
        "Pinterest: page 2: 500 items so far",
        "Pinterest: page 3: 600 items so far",
    ]
