"""The management actions (issue 15) through the installed plugin and the host:
each request as Pinterest's spec states it (the ``server`` fixture holds every
request to the spec), each output against its schema, deletes of what is gone
reported as "not found", bad inputs sent nowhere, and a whole workflow on the
sandbox."""

import pytest

from conftest import TOKEN
from scripted_server import Reply
from test_actions import BOARD, PIN, SECTION, assert_valid_output

BOARD_ID = BOARD["id"]
PIN_ID = PIN["id"]
PIN_FIELDS = ("id", "title", "description", "link", "board_id", "board_section_id", "created_at")


def _pin_output(pin):
    return {"success": True, "error": None, **{name: pin.get(name) for name in PIN_FIELDS}, "pin": pin}


def test_create_board_request_and_output(host, server, run):
    board = dict(BOARD, description="Ideas", privacy="SECRET")
    server.script(Reply(status=201, body=board))
    inputs = {"name": "Kitchen ideas", "description": "Ideas", "privacy": "SECRET"}
    out = run("create_board", inputs, server.base_url)
    assert out == {
        "success": True,
        "error": None,
        "id": BOARD_ID,
        "name": "Kitchen ideas",
        "description": "Ideas",
        "privacy": "SECRET",
        "board": board,
    }
    (req,) = server.requests
    assert (req.method, req.path, req.json) == ("POST", "/v5/boards", inputs)
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert_valid_output(host, "create_board", out)


def test_create_board_sends_only_what_was_given(server, run):
    server.script(Reply(status=201, body=BOARD))
    run("create_board", {"name": "Kitchen ideas", "description": ""}, server.base_url)
    assert server.requests[0].json == {"name": "Kitchen ideas"}


def test_update_board_sends_only_the_changes(host, server, run):
    renamed = dict(BOARD, name="Weeknight dinners")
    server.script(Reply(body=renamed))
    out = run("update_board", {"board_id": BOARD_ID, "name": "Weeknight dinners", "description": ""}, server.base_url)
    assert out["success"] is True and out["name"] == "Weeknight dinners" and out["board"] == renamed
    assert out["description"] is None  # not in the answer
    (req,) = server.requests
    assert (req.method, req.path, req.json) == ("PATCH", f"/v5/boards/{BOARD_ID}", {"name": "Weeknight dinners"})
    assert_valid_output(host, "update_board", out)


def test_delete_board_request_and_output(host, server, run):
    server.script(Reply(status=204, body=b""))
    out = run("delete_board", {"board_id": BOARD_ID}, server.base_url)
    assert out == {"success": True, "error": None, "board_id": BOARD_ID, "already_gone": False}
    (req,) = server.requests
    assert (req.method, req.path, req.body) == ("DELETE", f"/v5/boards/{BOARD_ID}", b"")
    assert_valid_output(host, "delete_board", out)


def test_create_board_section_request_and_output(host, server, run):
    server.script(Reply(status=201, body=SECTION))
    out = run("create_board_section", {"board_id": BOARD_ID, "name": "Tarts"}, server.base_url)
    assert out == {
        "success": True,
        "error": None,
        "id": SECTION["id"],
        "name": "Tarts",
        "board_id": BOARD_ID,
        "section": SECTION,
    }
    (req,) = server.requests
    assert (req.method, req.path, req.json) == ("POST", f"/v5/boards/{BOARD_ID}/sections", {"name": "Tarts"})
    assert_valid_output(host, "create_board_section", out)


def test_get_pin_request_and_output(host, server, run):
    server.script(Reply(body=PIN))
    out = run("get_pin", {"pin_id": PIN_ID}, server.base_url)
    assert out == _pin_output(PIN)
    (req,) = server.requests
    assert (req.method, req.path, req.params, req.body) == ("GET", f"/v5/pins/{PIN_ID}", {}, b"")
    assert_valid_output(host, "get_pin", out)


def test_update_pin_request_and_output(host, server, run):
    changed = dict(PIN, title="Lemon tart (easy)", board_id="1234", board_section_id=None)
    server.script(Reply(body=changed))
    inputs = {
        "pin_id": PIN_ID,
        "title": "Lemon tart (easy)",
        "description": "Tangy and quick",
        "link": "https://example.com/easy",
        "alt_text": "A tart",
        "board_id": "1234",
        "board_section_id": "5678",
    }
    out = run("update_pin", inputs, server.base_url)
    assert out == _pin_output(changed)
    (req,) = server.requests
    assert (req.method, req.path) == ("PATCH", f"/v5/pins/{PIN_ID}")
    assert req.json == {name: value for name, value in inputs.items() if name != "pin_id"}
    assert_valid_output(host, "update_pin", out)


def test_delete_pin_request_and_output(host, server, run):
    server.script(Reply(status=204, body=b""))
    out = run("delete_pin", {"pin_id": PIN_ID}, server.base_url)
    assert out == {"success": True, "error": None, "pin_id": PIN_ID, "already_gone": False}
    (req,) = server.requests
    assert (req.method, req.path, req.body) == ("DELETE", f"/v5/pins/{PIN_ID}", b"")
    assert_valid_output(host, "delete_pin", out)


@pytest.mark.parametrize("section", [None, SECTION["id"]])
def test_save_pin_request_and_output(host, server, run, section):
    saved = dict(PIN, id="900", board_id="1234", board_section_id=section)
    server.script(Reply(status=201, body=saved))
    inputs = {"pin_id": PIN_ID, "board_id": "1234"} | ({"board_section_id": section} if section else {})
    out = run("save_pin", inputs, server.base_url)
    assert out == _pin_output(saved)
    (req,) = server.requests
    assert (req.method, req.path) == ("POST", f"/v5/pins/{PIN_ID}/save")
    assert req.json == {name: value for name, value in inputs.items() if name != "pin_id"}
    assert_valid_output(host, "save_pin", out)


NOT_FOUND = Reply(status=404, body={"code": 404, "message": "Not found"})


@pytest.mark.parametrize(
    "action, inputs, named",
    [
        ("get_pin", {"pin_id": PIN_ID}, f"Pin {PIN_ID} not found"),
        ("update_board", {"board_id": BOARD_ID, "name": "x"}, f"Board {BOARD_ID} not found"),
        ("create_board_section", {"board_id": BOARD_ID, "name": "x"}, f"Board {BOARD_ID} not found"),
        ("update_pin", {"pin_id": PIN_ID, "title": "x"}, f"Pin {PIN_ID} not found"),
        ("save_pin", {"pin_id": PIN_ID, "board_id": BOARD_ID}, f"Pin {PIN_ID} or board {BOARD_ID} not found"),
        (
            "save_pin",
            {"pin_id": PIN_ID, "board_id": BOARD_ID, "board_section_id": "77"},
            f"Pin {PIN_ID}, board {BOARD_ID} or its section 77 not found",
        ),
    ],
)
def test_not_found_is_a_failure_naming_what_was_not_found(host, server, run, action, inputs, named):
    server.script(NOT_FOUND)
    out = run(action, inputs, server.base_url)
    assert out["success"] is False and out["error"].startswith(named), out["error"]
    assert len(server.requests) == 1  # a 404 is not retried
    assert_valid_output(host, action, out)


@pytest.mark.parametrize(
    "action, inputs", [("delete_pin", {"pin_id": PIN_ID}), ("delete_board", {"board_id": BOARD_ID})]
)
def test_a_delete_of_what_is_gone_succeeds_saying_so(host, server, run, action, inputs):
    """request_semantics: a DELETE's 404 means what was asked for is so (gone_is_done)."""
    server.script(NOT_FOUND)
    out = run(action, inputs, server.base_url)
    assert out == {"success": True, "error": None, **inputs, "already_gone": True}
    assert len(server.requests) == 1
    assert_valid_output(host, action, out)


def test_a_delete_whose_answer_was_lost_is_resent_and_a_404_then_ends_it(server, run):
    """A resent DELETE of what the first one removed answers 404: that is success, so resending is safe."""
    server.script(Reply(status=503, body={"code": 503, "message": "busy"}), NOT_FOUND)
    out = run("delete_pin", {"pin_id": PIN_ID}, server.base_url, max_retries=3, retry_backoff=0.01)
    assert out == {"success": True, "error": None, "pin_id": PIN_ID, "already_gone": True}
    assert [request.method for request in server.requests] == ["DELETE", "DELETE"]


@pytest.mark.parametrize(
    "action, inputs, message",
    [
        ("create_board", {}, "'name' is required"),
        ("create_board", {"name": "a\nb"}, "'name' must be one line of text"),
        ("create_board", {"name": "x", "privacy": "HIDDEN"}, "'privacy' is invalid"),
        ("update_board", {"board_id": BOARD_ID}, "give at least one of name, description, privacy"),
        ("update_board", {"board_id": BOARD_ID, "privacy": "PROTECTED"}, "'privacy' is invalid"),
        ("delete_board", {"board_id": "12/../34"}, "'board_id' must be a Pinterest ID"),
        ("delete_board", {}, "'board_id' is required"),
        ("create_board_section", {"board_id": BOARD_ID}, "'name' is required"),
        ("get_pin", {"pin_id": ""}, "'pin_id' must not be empty"),
        ("update_pin", {"pin_id": PIN_ID, "title": ""}, "give at least one of title"),
        ("update_pin", {"pin_id": PIN_ID, "link": "javascript:alert(1)"}, "'link' must be an http(s) URL"),
        ("delete_pin", {"pin_id": "１２"}, "'pin_id' must be a Pinterest ID"),
        ("save_pin", {"pin_id": PIN_ID}, "'board_id' is required"),
        ("save_pin", {"pin_id": PIN_ID, "board_id": BOARD_ID, "extra": 1}, "unknown field(s): 'extra'"),
    ],
)
def test_invalid_inputs_send_nothing(server, run, action, inputs, message):
    out = run(action, inputs, server.base_url)
    assert out["success"] is False and message in out["error"], out["error"]
    assert server.requests == []


def test_an_answer_without_an_id_is_an_unusable_response(server, run):
    server.script(Reply(status=201, body={"name": "Kitchen ideas"}))
    out = run("create_board", {"name": "Kitchen ideas"}, server.base_url)
    assert out["success"] is False and "unusable response" in out["error"] and "no 'id'" in out["error"]


def test_mcp_annotations_follow_the_request_method(host):
    from modulex_pinterest.apps.agent_tools import tool_definitions

    tools = {tool["name"]: tool["annotations"] for tool in tool_definitions(host.manifest("pinterest"), "mcp")}
    assert tools["delete_board"]["destructiveHint"] is True and tools["delete_pin"]["destructiveHint"] is True
    assert tools["get_pin"]["readOnlyHint"] is True and tools["list_pins"]["readOnlyHint"] is True
    for name in ("create_board", "update_board", "create_board_section", "update_pin", "save_pin", "create_pin"):
        assert tools[name]["readOnlyHint"] is False and tools[name]["destructiveHint"] is False, name
    for name in ("delete_board", "delete_pin"):
        assert "cannot be undone" in host.action("pinterest", name)["agent_description"]


def test_workflow_on_the_sandbox(sandbox, run):
    """Create, rename and list a board; add a section; get, update, save and delete a pin; delete the board."""

    def call(action, inputs):
        out = run(action, inputs, sandbox.base_url, token=sandbox.access_token)
        assert out["success"] is True, (action, out["error"])
        return out

    board = call("create_board", {"name": "Issue 15", "description": "Made by a test", "privacy": "PUBLIC"})
    board_id = board["id"]
    assert board["name"] == "Issue 15" and board["board"]["id"] == board_id
    renamed = call("update_board", {"board_id": board_id, "name": "Issue 15, renamed"})
    assert renamed["name"] == "Issue 15, renamed" and renamed["description"] == "Made by a test"
    listed = call("list_boards", {"fetch_all": True})["boards"]
    assert [b["name"] for b in listed if b["id"] == board_id] == ["Issue 15, renamed"]

    section = call("create_board_section", {"board_id": board_id, "name": "Tarts"})
    sections = call("get_board_sections", {"board_id": board_id})["sections"]
    assert [(s["id"], s["name"]) for s in sections] == [(section["id"], "Tarts")]

    created = call(
        "create_pin", {"board_id": board_id, "title": "Lemon tart", "media_url": "https://images.example.com/t.jpg"}
    )
    pin_id = created["id"]
    got = call("get_pin", {"pin_id": pin_id})
    assert (got["id"], got["title"], got["board_id"]) == (pin_id, "Lemon tart", board_id)
    updated = call("update_pin", {"pin_id": pin_id, "title": "Lemon tart, easy", "board_section_id": section["id"]})
    assert (updated["title"], updated["board_section_id"]) == ("Lemon tart, easy", section["id"])
    assert call("get_pin", {"pin_id": pin_id})["title"] == "Lemon tart, easy"

    other = sandbox.boards[0]["id"]
    saved = call("save_pin", {"pin_id": pin_id, "board_id": other})
    assert saved["board_id"] == other
    in_other = call("list_pins", {"board_id": other, "fetch_all": True})["pins"]
    assert saved["id"] in [pin["id"] for pin in in_other]

    assert call("delete_pin", {"pin_id": pin_id}) == {
        "success": True,
        "error": None,
        "pin_id": pin_id,
        "already_gone": False,
    }
    gone = run("get_pin", {"pin_id": pin_id}, sandbox.base_url, token=sandbox.access_token)
    assert gone["success"] is False and gone["error"].startswith(f"Pin {pin_id} not found")
    again = run("delete_pin", {"pin_id": pin_id}, sandbox.base_url, token=sandbox.access_token)
    assert (again["success"], again["already_gone"]) == (True, True)

    call("delete_board", {"board_id": board_id})
    assert board_id not in [b["id"] for b in call("list_boards", {"fetch_all": True})["boards"]]
    again = run("delete_board", {"board_id": board_id}, sandbox.base_url, token=sandbox.access_token)
    assert (again["success"], again["already_gone"]) == (True, True)
