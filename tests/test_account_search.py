"""The account and search reads (issue 24): get_user_account, search_pins, search_boards and
list_account_pins, run as a user runs them (the installed console script) against the sandbox.

They are plain data in plugin.yaml (no handler of their own): every request and answer is
checked against Pinterest's OpenAPI description by the ``sandbox`` fixture, and every output
against the action's output schema here.
"""

import json

import pytest
from jsonschema import Draft202012Validator

from modulex_pinterest.host import Host
from test_cli import cli, run_on_sandbox, strict_json

PLUGIN = "pinterest"


@pytest.fixture(scope="module")
def described():
    host = Host()
    return lambda name: host.action(PLUGIN, name)


@pytest.fixture
def run_cli(sandbox, tmp_path, described):
    """run_cli(action, inputs): the console script's output, checked against the action's output schema."""

    def _run(action, inputs):
        result = run_on_sandbox(sandbox, action, inputs, tmp_path)
        assert result.returncode == 0, result.stderr
        output = strict_json(result.stdout)
        Draft202012Validator(described(action)["output_schema"]).validate(output)
        return output

    return _run


def _words(item, *keys):
    return " ".join(item.get(key) or "" for key in keys).casefold()


def test_get_user_account_names_the_connected_account(run_cli):
    out = run_cli("get_user_account", {})
    assert out["success"] is True and out["error"] is None
    assert out["username"] == "sandbox_user" and out["account_type"] == "BUSINESS"
    assert out["id"] == out["account"]["id"] and out["id"].isdigit()
    assert out["account"]["board_count"] >= 4 and out["account"]["pin_count"] > 600


def test_list_account_pins_pages_through_every_board_newest_first(run_cli, sandbox):
    first = run_cli("list_account_pins", {"page_size": 50})
    assert first["count"] == 50 and first["bookmark"]
    dates = [pin["created_at"] for pin in first["pins"]]
    assert dates == sorted(dates, reverse=True)
    second = run_cli("list_account_pins", {"page_size": 50, "bookmark": first["bookmark"]})
    assert {p["id"] for p in first["pins"]}.isdisjoint(p["id"] for p in second["pins"])
    assert second["pins"][0]["created_at"] <= dates[-1]
    every = run_cli("list_account_pins", {"fetch_all": True, "max_items": 5000})
    assert every["bookmark"] is None
    assert every["count"] == run_cli("get_user_account", {})["account"]["pin_count"]
    assert {pin["board_id"] for pin in every["pins"]} == {board["id"] for board in sandbox.boards}
    capped = run_cli("list_account_pins", {"fetch_all": True, "max_items": 120})
    assert capped["count"] == 120 and capped["bookmark"]


def test_search_pins_finds_the_accounts_pins_with_every_word_and_pages_with_the_same_query(run_cli):
    first = run_cli("search_pins", {"query": "Curry"})
    assert first["query"] == "Curry" and first["count"] == 25 and first["bookmark"]
    second = run_cli("search_pins", {"query": "Curry", "bookmark": first["bookmark"]})
    hits = first["pins"] + second["pins"]
    assert second["count"] > 0
    assert len({pin["id"] for pin in hits}) == len(hits)
    assert all("curry" in _words(pin, "title", "description") for pin in hits)
    both = run_cli("search_pins", {"query": "green curry"})
    assert both["count"] > 0 and all("green" in _words(pin, "title", "description") for pin in both["pins"])
    none = run_cli("search_pins", {"query": "zeppelin"})
    assert none == {"success": True, "error": None, "query": "zeppelin", "pins": [], "count": 0, "bookmark": None}


def test_search_boards_matches_names_and_descriptions(run_cli, sandbox):
    out = run_cli("search_boards", {"query": "travel"})
    assert [board["name"] for board in out["boards"]] == ["Travel 2026"]
    assert out["boards"][0]["id"] in {board["id"] for board in sandbox.boards}
    recipes = run_cli("search_boards", {"query": "recipe", "page_size": 1})
    assert recipes["count"] == 1 and recipes["bookmark"]
    rest = run_cli("search_boards", {"query": "recipe", "page_size": 1, "bookmark": recipes["bookmark"]})
    assert rest["count"] == 1 and rest["boards"][0]["id"] != recipes["boards"][0]["id"]
    assert all("recipe" in _words(b, "name", "description") for b in recipes["boards"] + rest["boards"])


def test_a_bookmark_of_another_query_is_refused_by_the_sandbox(run_cli, sandbox, tmp_path):
    first = run_cli("search_pins", {"query": "curry"})
    args = ["run", "search_pins", "--input", json.dumps({"query": "soup", "bookmark": first["bookmark"]})]
    result = cli(*args, "--base-url", sandbox.base_url, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 1
    assert strict_json(result.stdout)["success"] is False


@pytest.mark.parametrize(
    ("action", "inputs", "says"),
    [
        ("search_pins", {}, "query"),
        ("search_pins", {"query": ""}, "query"),
        ("search_boards", {"query": "two\nlines"}, "query"),
        ("get_user_account", {"username": "someone"}, "username"),
    ],
)
def test_inputs_are_checked_before_any_request(action, inputs, says, sandbox, tmp_path):
    args = ("run", action, "--input", json.dumps(inputs), "--base-url", sandbox.base_url)
    result = cli(*args, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode != 0 and says in result.stdout + result.stderr
    assert not [e for e in sandbox.exchanges if e.path.startswith("/v5/")]


def test_the_reads_are_plain_data_marked_read_only(described):
    for name in ("get_user_account", "search_pins", "search_boards", "list_account_pins"):
        action = described(name)
        assert action["request"]["method"] == "GET"
        assert action.get("handler") in (None, "list"), name


@pytest.mark.parametrize("action", ["get_pin", "update_pin", "delete_pin", "save_pin"])
def test_pin_pickers_list_the_accounts_pins_by_title(action, host, sandbox):
    creds = {"mode": "access_token", "access_token": sandbox.access_token}
    result = host.options(PLUGIN, action, "pin_id", {}, creds, {"base_url": sandbox.base_url})
    assert result["success"] and len(result["options"]) == 250 and result["bookmark"]
    newest = host.run(PLUGIN, "list_account_pins", {"page_size": 3}, creds, {"base_url": sandbox.base_url})
    assert result["options"][:3] == [{"label": pin["title"], "value": pin["id"]} for pin in newest["pins"]]
    assert [e.path for e in sandbox.exchanges if e.path.startswith("/v5/")][0] == "/v5/pins"
