"""The host contract's ``report_failure``: with each failed action, whether an engine may run
it again. Creates whose outcome is unknown, and failures a retry cannot change, are not
retryable; a 429, a failed read and a create surely not sent are. On the sandbox, through the
reference host and the installed plugin."""

import pytest

from conftest import PLUGIN

FAST = {"retry_backoff": 0.01, "max_retries": 0}
PIN = {"title": "t", "media_url": "https://e.com/a.jpg"}


def run(host, sandbox, action, inputs, token=None, **settings):
    """(output, reports) of one run with a ``report_failure`` callback."""
    reports = []
    credentials = {"mode": "access_token", "access_token": token or sandbox.access_token}
    output = host.run(
        PLUGIN,
        action,
        inputs,
        credentials,
        dict(FAST, base_url=sandbox.base_url, **settings),
        report_failure=reports.append,
    )
    return output, reports


def test_a_success_reports_nothing(host, sandbox):
    output, reports = run(host, sandbox, "list_boards", {})
    assert output["success"] and reports == []


@pytest.mark.parametrize(
    "action, inputs, fault, kind, status, retryable",
    [
        # A create whose outcome is unknown: never again (a duplicate pin).
        ("create_pin", PIN, dict(kind="status", status=500, method="POST"), "http", 500, False),
        ("create_pin", PIN, dict(kind="drop", method="POST"), "connection", None, False),
        ("create_pin", PIN, dict(kind="non_json", method="POST"), "bad_response", 200, False),
        # A create refused for now: it was not made, so later it may be.
        (
            "create_pin",
            PIN,
            dict(kind="status", status=429, headers={"Retry-After": "7"}, method="POST"),
            "http",
            429,
            True,
        ),
        # Reads and updates may be repeated.
        ("list_pins", {}, dict(kind="status", status=503), "http", 503, True),
        ("list_pins", {}, dict(kind="drop"), "connection", None, True),
        ("update_board", {"name": "x"}, dict(kind="status", status=500, method="PATCH"), "http", 500, True),
        # Refusals a retry cannot change.
        ("list_pins", {}, dict(kind="status", status=404), "http", 404, False),
        ("create_pin", PIN, dict(kind="status", status=400, method="POST"), "http", 400, False),
        ("list_pins", {}, dict(kind="status", status=403), "http", 403, False),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_failure_says_whether_an_engine_may_run_it_again(
    host, sandbox, action, inputs, fault, kind, status, retryable
):
    sandbox.inject_fault(fault.pop("kind"), **fault)
    output, reports = run(host, sandbox, action, dict(inputs, board_id=sandbox.boards[0]["id"]))
    assert output["success"] is False
    (report,) = reports
    assert (report["kind"], report["status"], report["retryable"]) == (kind, status, retryable)
    if status == 429:
        assert report["retry_after"] == 7


def test_bad_inputs_and_bad_credentials_are_not_retryable_and_send_nothing(host, sandbox):
    output, reports = run(host, sandbox, "list_pins", {"board_id": "../user_account"})
    assert output["success"] is False and reports == [
        {"kind": "input", "status": None, "retry_after": None, "retryable": False}
    ]
    output, reports = run(host, sandbox, "list_boards", {}, token="pina_wrong")
    assert output["success"] is False
    assert [(r["kind"], r["status"], r["retryable"]) for r in reports] == [("http", 401, False)]
    output, reports = run(host, sandbox, "list_boards", {}, deadline=-1)
    assert output["success"] is False and [r["kind"] for r in reports] == ["settings"]
    assert len(sandbox.exchanges) == 1  # only the 401


def test_a_refresh_without_a_store_is_not_retryable(host, sandbox):
    oauth = {"mode": "oauth2", "app_id": "1", "app_secret": "s", "refresh_token": "pinr_x"}
    reports = []
    output = host.run(PLUGIN, "list_boards", {}, oauth, {"base_url": sandbox.base_url}, report_failure=reports.append)
    assert output["success"] is False
    assert [(r["kind"], r["retryable"]) for r in reports] == [("refresh", False)]


def test_a_failing_report_callback_does_not_fail_the_call(host, sandbox):
    def broken(report):
        raise RuntimeError("the host's own bug")

    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    output = host.run(
        PLUGIN, "list_pins", {"board_id": "../x"}, credentials, {"base_url": sandbox.base_url}, report_failure=broken
    )
    assert output["success"] is False and "board_id" in output["error"]


@pytest.mark.parametrize(
    "fault, retryable",
    [
        (dict(kind="status", status=429, headers={"Retry-After": "0"}), True),  # surely not rotated: try later
        (dict(kind="drop"), False),  # maybe rotated: a retry could present a used refresh token
    ],
    ids=["token-endpoint-429", "token-endpoint-dropped"],
)
def test_a_failed_refresh_is_retryable_only_when_the_token_surely_did_not_rotate(host, sandbox, fault, retryable):
    from modulex_pinterest.host import MemoryStore
    from test_oauth import authorize

    store = MemoryStore(dict(authorize(sandbox), expires_at=1))
    sandbox.inject_fault(fault.pop("kind"), path_prefix="/v5/oauth/token", **fault)
    reports = []
    output = host.run(
        PLUGIN,
        "list_boards",
        {},
        None,
        dict(FAST, base_url=sandbox.base_url),
        store=store,
        report_failure=reports.append,
    )
    assert output["success"] is False
    assert [(r["kind"], r["retryable"]) for r in reports] == [("refresh", retryable)]
