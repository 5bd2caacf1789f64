"""Issue 15's acceptance, through the installed console script on the sandbox:
manage a board, its section and pins, and follow new pins with the new_pin
trigger and a state file."""

import json

from test_cli import cli, run_on_sandbox, strict_json


def run(sandbox, tmp_path, action, inputs):
    result = run_on_sandbox(sandbox, action, inputs, tmp_path)
    output = strict_json(result.stdout)
    assert result.returncode == (0 if output["success"] else 1), result.stderr
    return output


def poll(sandbox, tmp_path, board_id):
    result = cli(
        "poll",
        "new_pin",
        "--input",
        json.dumps({"board_id": board_id}),
        "--state",
        "state.json",
        "--base-url",
        sandbox.base_url,
        token=sandbox.access_token,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return strict_json(result.stdout)


def new_pin(sandbox, tmp_path, board_id, title):
    pin = run(
        sandbox,
        tmp_path,
        "create_pin",
        {"board_id": board_id, "title": title, "media_url": f"https://e.com/{title}.jpg"},
    )
    assert pin["success"], pin["error"]
    return pin["id"]


def test_manage_a_board_its_section_and_pins_from_the_cli(sandbox, tmp_path):
    board = run(sandbox, tmp_path, "create_board", {"name": "Spring ideas", "description": "for the shop"})
    assert board["success"] and board["name"] == "Spring ideas"
    board_id = board["id"]
    renamed = run(sandbox, tmp_path, "update_board", {"board_id": board_id, "name": "Spring 2027"})
    assert renamed["success"] and renamed["name"] == "Spring 2027"
    listed = run(sandbox, tmp_path, "list_boards", {"fetch_all": True})
    assert [b["name"] for b in listed["boards"] if b["id"] == board_id] == ["Spring 2027"]
    section = run(sandbox, tmp_path, "create_board_section", {"board_id": board_id, "name": "Tulips"})
    assert section["success"] and section["name"] == "Tulips"

    pin = new_pin(sandbox, tmp_path, board_id, "four")
    got = run(sandbox, tmp_path, "get_pin", {"pin_id": pin})
    assert got["success"] and got["title"] == "four"
    updated = run(
        sandbox, tmp_path, "update_pin", {"pin_id": pin, "title": "four, renamed", "board_section_id": section["id"]}
    )
    assert updated["success"] and updated["title"] == "four, renamed"
    assert updated["board_section_id"] == section["id"]
    other_board = sandbox.boards[0]["id"]
    saved = run(sandbox, tmp_path, "save_pin", {"pin_id": pin, "board_id": other_board})
    assert saved["success"] and saved["board_id"] == other_board and saved["id"] != pin
    assert run(sandbox, tmp_path, "delete_pin", {"pin_id": pin})["success"]
    assert run(sandbox, tmp_path, "delete_board", {"board_id": board_id})["success"]
    gone = run(sandbox, tmp_path, "delete_board", {"board_id": board_id})
    assert gone["success"] and gone["already_gone"]  # request_semantics: a DELETE's 404 means it is done


def test_follow_a_boards_new_pins_from_the_cli_with_a_state_file(sandbox, tmp_path):
    board_id = run(sandbox, tmp_path, "create_board", {"name": "Spring ideas"})["id"]
    primed = poll(sandbox, tmp_path, board_id)
    assert (primed["success"], primed["events"]) == (True, [])
    created = [new_pin(sandbox, tmp_path, board_id, title) for title in ("one", "two", "three")]
    first = poll(sandbox, tmp_path, board_id)
    assert [event["id"] for event in first["events"]] == created
    assert poll(sandbox, tmp_path, board_id)["events"] == []
    deleted = run(sandbox, tmp_path, "delete_pin", {"pin_id": created[1]})
    assert deleted["success"]
    fourth = new_pin(sandbox, tmp_path, board_id, "four")
    assert [event["id"] for event in poll(sandbox, tmp_path, board_id)["events"]] == [fourth]
