"""The analytics actions: through the installed console script against the sandbox (every
exchange held to Pinterest's OpenAPI description by the ``sandbox`` fixture), outputs
against their schemas, and Pinterest's date and pin id rules refused before sending."""

import copy
import datetime as dt

import jsonschema
import pytest
import requests
from hypothesis import given, settings
from hypothesis_jsonschema import from_schema

from modulex_pinterest.plugin.actions.analytics import date_window
from modulex_pinterest.plugin.errors import InputError
from modulex_pinterest.plugin.spec import manifest, validation
from modulex_pinterest.sandbox import Sandbox
from test_cli import run_on_sandbox, strict_json
from test_fuzz import FORMATS, FUZZ

ANALYTICS = ["get_account_analytics", "get_top_pins_analytics", "get_pin_analytics", "get_pins_analytics"]
TODAY = dt.datetime.now(dt.timezone.utc).date()


def _day(days_ago):
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def _action(name):
    return manifest.spec().actions[name]


def _run_cli(sandbox, tmp_path, action, inputs):
    return run_on_sandbox(sandbox, action, inputs, tmp_path)


def _ok(sandbox, tmp_path, action, inputs):
    result = _run_cli(sandbox, tmp_path, action, inputs)
    assert result.returncode == 0, result.stderr
    output = strict_json(result.stdout)
    assert output["success"] is True
    assert validation.output_errors(_action(action), output) == []
    return output


def _pin_ids(sandbox):
    return [pin["id"] for pin in sandbox.store.list_pins(sandbox.boards[0]["id"], None, None, 5)["items"]]


def _check_daily(output, metrics, days):
    assert [row["date"] for row in output["daily"]] == [_day(n) for n in range(days - 1, -1, -1)]
    for row in output["daily"]:
        assert set(row) == {"date", *metrics}
        assert all(isinstance(row[m], int | float) for m in metrics)
    assert set(output["summary"]) == set(metrics)


def test_account_analytics_from_a_preset(sandbox, tmp_path):
    output = _ok(
        sandbox,
        tmp_path,
        "get_account_analytics",
        {"date_range": "last_7_days", "metric_types": ["IMPRESSION", "SAVE"]},
    )
    assert (output["start_date"], output["end_date"]) == (_day(6), _day(0))
    _check_daily(output, ["IMPRESSION", "SAVE"], 7)
    assert output["summary"]["IMPRESSION"] == sum(row["IMPRESSION"] for row in output["daily"])
    assert output["raw"]["ALL"]["summary_metrics"] == output["summary"]
    (exchange,) = sandbox.exchanges
    assert "metric_types=IMPRESSION%2CSAVE" in exchange.query or "metric_types=IMPRESSION,SAVE" in exchange.query
    again = _ok(
        sandbox,
        tmp_path,
        "get_account_analytics",
        {"date_range": "last_7_days", "metric_types": ["IMPRESSION", "SAVE"]},
    )
    assert again["daily"] == output["daily"], "the sandbox's numbers are the same on every run"


def test_account_analytics_with_dates_a_split_and_filters(sandbox, tmp_path):
    inputs = {
        "start_date": _day(89),
        "end_date": _day(60),
        "split_field": "APP_TYPE",
        "metric_types": ["IMPRESSION", "SAVE_RATE"],
        "content_type": "ORGANIC",
        "source": "YOUR_PINS",
        "pin_format": "ALL",
        "from_claimed_content": "BOTH",
    }
    output = _ok(sandbox, tmp_path, "get_account_analytics", inputs)
    assert len(output["daily"]) == 30
    assert "IMPRESSION (MOBILE)" in output["daily"][0] and "SAVE_RATE (WEB)" in output["summary"]


def test_account_analytics_default_is_the_last_30_days_of_every_metric(sandbox, tmp_path):
    output = _ok(sandbox, tmp_path, "get_account_analytics", {})
    assert len(output["daily"]) == 30 and "ENGAGEMENT_RATE" in output["summary"]


def test_top_pins(sandbox, tmp_path):
    inputs = {"sort_by": "SAVE", "num_of_pins": 3, "date_range": "last_30_days", "metric_types": ["IMPRESSION", "SAVE"]}
    output = _ok(sandbox, tmp_path, "get_top_pins_analytics", inputs)
    assert output["count"] == 3 and output["sort_by"] == "SAVE"
    saves = [pin["SAVE"] for pin in output["pins"]]
    assert saves == sorted(saves, reverse=True)
    assert all(pin["pin_id"].isdigit() and "IMPRESSION" in pin for pin in output["pins"])


def test_one_pin(sandbox, tmp_path):
    pin_id = _pin_ids(sandbox)[0]
    output = _ok(sandbox, tmp_path, "get_pin_analytics", {"pin_id": pin_id, "start_date": _day(13)})
    assert output["pin_id"] == pin_id and output["end_date"] == _day(0)
    _check_daily(output, ["IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK"], 14)


def test_several_pins_add_up_counts_and_keep_rates_per_pin(sandbox, tmp_path):
    pin_ids = _pin_ids(sandbox)[:3]
    inputs = {"pin_ids": pin_ids, "date_range": "last_14_days", "metric_types": ["IMPRESSION", "SAVE_RATE"]}
    output = _ok(sandbox, tmp_path, "get_pins_analytics", inputs)
    assert [pin["pin_id"] for pin in output["pins"]] == pin_ids
    _check_daily(output, ["IMPRESSION"], 14)
    assert output["summary"]["IMPRESSION"] == sum(pin["summary"]["IMPRESSION"] for pin in output["pins"])
    assert all("SAVE_RATE" in pin["summary"] for pin in output["pins"])
    (exchange,) = sandbox.exchanges
    assert "&".join(f"pin_ids={pin_id}" for pin_id in pin_ids) in exchange.query  # the spec's explode: true


@pytest.mark.parametrize(
    ("action", "inputs", "words"),
    [
        ("get_account_analytics", {"start_date": _day(91)}, "'start_date' " + _day(91) + " is more than 90 days back"),
        ("get_account_analytics", {"start_date": _day(3), "end_date": _day(5)}, "'end_date' " + _day(5) + " is before"),
        ("get_pin_analytics", {"pin_id": "1", "start_date": _day(80), "end_date": _day(-20)}, "more than 90 days past"),
        ("get_account_analytics", {"start_date": "2026/11/01"}, "'start_date' must be a date written YYYY-MM-DD"),
        ("get_account_analytics", {"start_date": "2026-02-30"}, "'start_date' must be a date written YYYY-MM-DD"),
        ("get_account_analytics", {"start_date": _day(2) + "\n"}, "'start_date'"),
        ("get_account_analytics", {"end_date": _day(2)}, "'start_date' is required when 'end_date' is given"),
        ("get_account_analytics", {"date_range": "last_7_days", "start_date": _day(2)}, "not both"),
        ("get_top_pins_analytics", {"num_of_pins": 51}, "'num_of_pins' must be at most 50"),
        ("get_pins_analytics", {"pin_ids": [str(10**17 + n) for n in range(101)]}, "'pin_ids' must hold at most 100"),
        ("get_pins_analytics", {"pin_ids": []}, "'pin_ids' must hold at least 1"),
        ("get_pins_analytics", {"pin_ids": ["12\n"]}, "'pin_ids.0' must be a Pinterest ID"),
        ("get_pin_analytics", {"pin_id": "1", "metric_types": ["IMPRESSIONS"]}, "'metric_types.0'"),
    ],
)
def test_refused_before_sending_naming_the_rule(sandbox, tmp_path, action, inputs, words):
    result = _run_cli(sandbox, tmp_path, action, inputs)
    assert result.returncode == 1, result.stdout
    assert words in result.stdout + result.stderr
    assert sandbox.exchanges == []


def test_presets_and_explicit_dates():
    today = dt.date(2026, 3, 1)
    assert date_window({"date_range": "last_90_days"}, today) == (dt.date(2025, 12, 2), today)
    assert date_window({}, today) == (dt.date(2026, 1, 31), today)
    assert date_window({"start_date": "2025-12-01"}, today) == (dt.date(2025, 12, 1), today)
    with pytest.raises(InputError, match="earliest is 2025-12-01"):
        date_window({"start_date": "2025-11-30"}, today)


@pytest.mark.no_contract
def test_the_sandbox_refuses_what_pinterest_refuses(sandbox, http):
    base = sandbox.base_url
    answer = http.get(f"{base}/user_account/analytics", params={"start_date": _day(91), "end_date": _day(0)})
    assert answer.status_code == 400 and "90 days back" in answer.json()["message"]
    answer = http.get(f"{base}/user_account/analytics", params={"start_date": _day(1), "end_date": _day(2)})
    assert answer.status_code == 400 and "before start_date" in answer.json()["message"]
    ids = [str(10**17 + n) for n in range(101)]
    answer = http.get(
        f"{base}/pins/analytics",
        params={"pin_ids": ids, "start_date": _day(1), "end_date": _day(0), "metric_types": "IMPRESSION"},
    )
    assert answer.status_code == 400 and "at most 100 pin_ids" in answer.json()["message"]


@pytest.mark.parametrize("action", ANALYTICS)
def test_valid_inputs_send_requests_pinterest_accepts_and_outputs_that_validate(host, sandbox, run, action):
    """Inputs generated from the input schema (pin ids from the sandbox, dates around today):
    what is sent is held to the OpenAPI description by the sandbox fixture, every output to
    its schema, and a refused input sends nothing."""
    schema = copy.deepcopy(host.action("pinterest", action)["input_schema"])
    known = _pin_ids(sandbox)
    for name in ("pin_id", "pin_ids"):
        if name in schema["properties"]:
            target = schema["properties"][name]
            target = target["items"] if name == "pin_ids" else target
            target["enum"] = known
    output_validator = jsonschema.Draft202012Validator(host.action("pinterest", action)["output_schema"])

    sent = []

    @settings(FUZZ, max_examples=30)
    @given(inputs=from_schema(schema, custom_formats=FORMATS))
    def check(inputs):
        sandbox.clear_exchanges()
        out = run(action, inputs, sandbox.base_url, token=sandbox.access_token, max_retries=0)
        output_validator.validate(out)
        if out["success"]:
            sent.append(inputs)
            assert len(sandbox.exchanges) == 1 and all(isinstance(row["date"], str) for row in out.get("daily", []))
        else:
            assert out["error"].startswith("Invalid input") and sandbox.exchanges == [], out["error"]

    check()
    assert len(sent) >= 5, "most generated date ranges should pass Pinterest's rules and be sent"


def test_the_sandbox_keeps_an_org_analytics_budget_apart():
    with Sandbox(rate_limit=0.01) as sb, requests.Session() as http:  # one request per budget, refilled in 100 s
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {sb.access_token}"
        params = {"start_date": _day(1), "end_date": _day(0)}
        assert http.get(f"{sb.base_url}/boards").status_code == 200
        assert http.get(f"{sb.base_url}/user_account/analytics", params=params).status_code == 200
        assert http.get(f"{sb.base_url}/user_account/analytics", params=params).status_code == 429
        assert http.get(f"{sb.base_url}/boards").status_code == 429
