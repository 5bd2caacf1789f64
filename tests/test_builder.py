"""What builders and agents get beyond the four calls: node metadata, pickers,
whole-list fetches and dry runs, against the sandbox."""

import json
from urllib.parse import parse_qs

import jsonschema
import pytest

from conftest import ACTIONS
from scripted_server import Reply
from test_cli import cli


@pytest.mark.parametrize("action", ACTIONS)
def test_node_metadata_names_only_real_fields_and_examples_are_valid(host, action):
    entry = host.action("pinterest", action)
    fields = set(entry["input_schema"]["properties"])
    ui = entry["ui"]
    assert sorted(ui["field_order"]) == sorted(fields)
    assert set(ui["advanced"]) <= fields
    assert set(ui.get("widgets", {})) <= fields
    for field, declared in ui.get("options", {}).items():
        assert field in fields and declared["source"] in ACTIONS and set(declared["depends_on"]) <= fields
    assert entry["agent_description"]
    for example in entry["examples"]:
        jsonschema.validate(example["inputs"], entry["input_schema"])


def test_media_url_is_a_url_input_with_an_image_preview(host):
    widgets = host.action("pinterest", "create_pin")["ui"]["widgets"]
    assert widgets["media_url"] == {"widget": "url", "preview": "image"}
    assert widgets["description"] == {"widget": "textarea"}


def _creds(sandbox):
    return {"mode": "access_token", "access_token": sandbox.access_token}


def test_board_picker_lists_the_boards(host, sandbox):
    result = host.options("pinterest", "create_pin", "board_id", {}, _creds(sandbox), {"base_url": sandbox.base_url})
    assert result["success"] and result["bookmark"] is None
    assert result["options"] == [{"label": b["name"], "value": b["id"]} for b in sandbox.boards]


def test_section_picker_depends_on_the_chosen_board(host, sandbox):
    board = sandbox.boards[0]
    settings = {"base_url": sandbox.base_url}
    result = host.options(
        "pinterest", "list_pins", "board_section_id", {"board_id": board["id"]}, _creds(sandbox), settings
    )
    assert result["success"]
    assert result["options"] == [{"label": s["name"], "value": s["id"]} for s in sandbox.sections(board["id"])]
    sent = [e for e in sandbox.exchanges if e.path.endswith("/sections")]
    assert sent and sent[0].path == f"/v5/boards/{board['id']}/sections"
    unchosen = host.options("pinterest", "list_pins", "board_section_id", {}, _creds(sandbox), settings)
    assert unchosen["success"] is False and "Choose board_id first" in unchosen["error"]
    assert len([e for e in sandbox.exchanges if e.path.endswith("/sections")]) == 1


def test_picker_errors_are_values(host, sandbox):
    settings = {"base_url": sandbox.base_url}
    none = host.options("pinterest", "create_pin", "title", {}, _creds(sandbox), settings)
    assert none["success"] is False and "no options for 'title'" in none["error"]
    bad = host.options("pinterest", "create_pin", "board_section_id", {"board_id": "abc"}, _creds(sandbox), settings)
    assert bad["success"] is False and "'board_id'" in bad["error"]
    unauthorized = host.options("pinterest", "create_pin", "board_id", {}, {"access_token": "pina_nope"}, settings)
    assert unauthorized["error"].startswith("Authentication failed")


def test_options_cli(tmp_path, sandbox):
    board = sandbox.boards[0]
    result = cli(
        "options",
        "create_pin",
        "board_section_id",
        "--input",
        json.dumps({"board_id": board["id"]}),
        "--base-url",
        sandbox.base_url,
        token=sandbox.access_token,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert [o["value"] for o in json.loads(result.stdout)["options"]] == [
        s["id"] for s in sandbox.sections(board["id"])
    ]


def test_fetch_all_follows_bookmarks_up_to_the_cap_and_says_where_it_stopped(run, sandbox):
    board_id = sandbox.add_large_board(pin_count=600)
    everything = run(
        "list_pins",
        {"board_id": board_id, "fetch_all": True, "max_items": 5000},
        sandbox.base_url,
        token=sandbox.access_token,
    )
    assert everything["success"] and everything["count"] == 600 == len({p["id"] for p in everything["pins"]})
    assert everything["bookmark"] is None
    capped = run(
        "list_pins",
        {"board_id": board_id, "fetch_all": True, "max_items": 300},
        sandbox.base_url,
        token=sandbox.access_token,
    )
    assert capped["count"] == 300 and capped["bookmark"]
    rest = run(
        "list_pins",
        {"board_id": board_id, "fetch_all": True, "bookmark": capped["bookmark"]},
        sandbox.base_url,
        token=sandbox.access_token,
    )
    assert rest["count"] == 300 and rest["bookmark"] is None
    assert [p["id"] for p in capped["pins"] + rest["pins"]] == [p["id"] for p in everything["pins"]]
    sizes = [int(parse_qs(e.query)["page_size"][0]) for e in sandbox.exchanges if e.path.endswith("/pins")]
    # Pages of 250, the largest, except where less is still wanted: the capped fetch's last asks for 50.
    assert sizes == [250, 250, 250] + [250, 50] + [250, 250]


def test_fetch_all_for_boards_and_sections(run, sandbox):
    boards = run("list_boards", {"fetch_all": True}, sandbox.base_url, token=sandbox.access_token)
    assert boards["count"] == len(sandbox.boards) and boards["bookmark"] is None
    board_id = sandbox.boards[0]["id"]
    sections = run(
        "get_board_sections",
        {"board_id": board_id, "fetch_all": True, "max_items": 2},
        sandbox.base_url,
        token=sandbox.access_token,
    )
    assert sections["count"] == 2 and sections["bookmark"]


def test_fetch_all_stops_on_a_repeated_bookmark(server, run):
    server.respond = lambda recorded: Reply(body={"items": [{"id": "1"}], "bookmark": "again"})
    out = run("list_boards", {"fetch_all": True, "max_items": 100}, server.base_url)
    assert out["success"] and out["count"] == 2 and out["bookmark"] is None
    assert len(server.requests) == 2


def test_dry_run_checks_the_board_and_section_and_creates_nothing(run, sandbox):
    board = sandbox.boards[0]
    section = sandbox.sections(board["id"])[0]
    before = sandbox.pin_count(board["id"])
    inputs = {
        "board_id": board["id"],
        "board_section_id": section["id"],
        "title": "Maybe",
        "media_url": "https://e.com/m.jpg",
        "dry_run": True,
    }
    out = run("create_pin", inputs, sandbox.base_url, token=sandbox.access_token)
    assert out["success"] and out["id"] is None and out["pin"]["dry_run"] is True
    assert out["pin"]["request"] == {
        "method": "POST",
        "path": "/pins",
        "body": {
            "board_id": board["id"],
            "board_section_id": section["id"],
            "title": "Maybe",
            "media_source": {"source_type": "image_url", "url": "https://e.com/m.jpg"},
        },
    }
    assert sandbox.pin_count(board["id"]) == before
    assert not [e for e in sandbox.exchanges if e.method == "POST"]
    missing = run("create_pin", dict(inputs, board_section_id="999"), sandbox.base_url, token=sandbox.access_token)
    assert missing["success"] is False and f"Board {board['id']} or its section 999 not found" in missing["error"]
    invalid = run("create_pin", dict(inputs, media_url="file:///x"), sandbox.base_url, token=sandbox.access_token)
    assert invalid["success"] is False and "'media_url'" in invalid["error"]
