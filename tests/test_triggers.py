"""Polling triggers (contract version 3): new_pin and new_board on the sandbox, through the
reference host and the ``poll`` command. Each new item is reported once, oldest first; a
failed poll loses and repeats nothing; a state is refused on another board or trigger."""

import json
import os
import stat
import threading

import pytest
import requests

from conftest import PLUGIN, TOKEN
from modulex_pinterest.apps.cli import main
from modulex_pinterest.contract import hookimpl
from modulex_pinterest.host import Host, HostError
from modulex_pinterest.plugin.actions import triggers


@pytest.fixture
def poll(host, sandbox):
    """poll(trigger, inputs, state, **settings): one poll against the sandbox."""

    def _poll(trigger, inputs, state, **settings):
        credentials = {"mode": "access_token", "access_token": sandbox.access_token}
        return host.poll(PLUGIN, trigger, inputs, credentials, dict(settings, base_url=sandbox.base_url), state)

    return _poll


@pytest.fixture
def board(sandbox):
    return sandbox.boards[0]["id"]


@pytest.fixture
def create(host, sandbox, board):
    """create(title, board_id=board, **fields): a pin made through the plugin's create_pin action; its id."""

    def _create(title, board_id=None, **fields):
        inputs = {"board_id": board_id or board, "title": title, "media_url": "https://example.com/p.jpg", **fields}
        credentials = {"mode": "access_token", "access_token": sandbox.access_token}
        output = host.run(PLUGIN, "create_pin", inputs, credentials, {"base_url": sandbox.base_url})
        assert output["success"], output["error"]
        return output["id"]

    return _create


def titles(output):
    assert output["success"], output["error"]
    return [event["title"] for event in output["events"]]


def list_gets(sandbox, board):
    return [e for e in sandbox.exchanges if e.method == "GET" and e.path.startswith(f"/v5/boards/{board}/pins")]


def delete_pin(host, sandbox, pin_id):
    """Through the delete_pin action when the plugin has it, else DELETE /pins/{id}; skip if the sandbox lacks it."""
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    if any(a["name"] == "delete_pin" for a in host.manifest(PLUGIN)["actions"]):
        output = host.run(PLUGIN, "delete_pin", {"pin_id": pin_id}, credentials, {"base_url": sandbox.base_url})
        assert output["success"], output["error"]
        return
    answer = requests.delete(
        f"{sandbox.base_url}/pins/{pin_id}", headers={"Authorization": f"Bearer {sandbox.access_token}"}, timeout=10
    )
    if answer.status_code in (404, 405) and sandbox.get_pin(pin_id) is not None:
        pytest.skip("the sandbox has no DELETE /pins/{pin_id} yet")
    assert answer.status_code == 204


def test_new_pin_primes_then_reports_each_new_pin_once_in_creation_order(poll, create, board, host, sandbox):
    primed = poll("new_pin", {"board_id": board}, None)
    assert primed["success"] and primed["events"] == []
    assert primed["state"]["board_id"] == board and len(json.dumps(primed["state"])) < 4096
    ids = [create(f"pin {n}") for n in range(3)]
    second = poll("new_pin", {"board_id": board}, primed["state"])
    assert titles(second) == ["pin 0", "pin 1", "pin 2"]
    assert [event["id"] for event in second["events"]] == ids
    assert all(event["pin"]["id"] == event["id"] and event["board_id"] == board for event in second["events"])
    third = poll("new_pin", {"board_id": board}, second["state"])
    assert titles(third) == []
    # The newest pin the state knows is deleted, and another is created: exactly the new one.
    delete_pin(host, sandbox, ids[-1])
    create("pin 3")
    fourth = poll("new_pin", {"board_id": board}, third["state"])
    assert titles(fourth) == ["pin 3"]
    assert titles(poll("new_pin", {"board_id": board}, fourth["state"])) == []


def test_a_poll_with_nothing_new_reads_one_page(poll, board, sandbox):
    state = poll("new_pin", {"board_id": board, "page_size": 5}, None)["state"]
    sandbox.clear_exchanges()
    assert titles(poll("new_pin", {"board_id": board, "page_size": 5}, state)) == []
    assert len(list_gets(sandbox, board)) == 1


def test_many_new_pins_across_pages_each_once_reading_only_the_pages_needed(poll, create, board, sandbox):
    inputs = {"board_id": board, "page_size": 7}
    state = poll("new_pin", inputs, None)["state"]
    for n in range(30):
        create(f"pin {n}")
    sandbox.clear_exchanges()
    output = poll("new_pin", inputs, state)
    assert titles(output) == [f"pin {n}" for n in range(30)]
    assert len(list_gets(sandbox, board)) == 5  # 4 pages of new pins, the 5th reaches the known ones
    assert len(json.dumps(output["state"])) < 4096
    assert titles(poll("new_pin", inputs, output["state"])) == []


def test_a_poll_failing_on_its_second_page_loses_and_repeats_nothing(poll, create, board, sandbox):
    inputs = {"board_id": board, "page_size": 2}
    state = poll("new_pin", inputs, None)["state"]
    for n in range(5):
        create(f"pin {n}")
    prefix = f"/v5/boards/{board}/pins"
    sandbox.inject_fault("delay", delay=0.0, method="GET", path_prefix=prefix)  # the first page: answered
    sandbox.inject_fault("status", status=500, method="GET", path_prefix=prefix)  # the second: fails
    failed = poll("new_pin", inputs, state, max_retries=0)
    assert not failed["success"] and failed["error"]
    assert failed["events"] == [] and failed["state"] == state
    done = poll("new_pin", inputs, state)
    assert titles(done) == [f"pin {n}" for n in range(5)]
    assert titles(poll("new_pin", inputs, done["state"])) == []


def test_a_pin_created_during_a_poll_is_reported_by_the_next_one(poll, create, board, sandbox, wait_until):
    inputs = {"board_id": board, "page_size": 2}
    state = poll("new_pin", inputs, None)["state"]
    for n in range(3):
        create(f"pin {n}")
    prefix = f"/v5/boards/{board}/pins"
    sandbox.inject_fault("delay", delay=0.0, method="GET", path_prefix=prefix)
    sandbox.inject_fault("delay", delay=0.5, method="GET", path_prefix=prefix)  # the second page, slowly
    answered = len(list_gets(sandbox, board))
    failed = []

    def create_during():  # once the first page is answered (it is logged before it is sent), not at a set time
        try:
            wait_until(lambda: len(list_gets(sandbox, board)) > answered, timeout=60)
            create("during")
        except BaseException as error:  # reported on the test's thread
            failed.append(error)

    during = threading.Thread(target=create_during)
    during.start()
    output = poll("new_pin", inputs, state)
    during.join()
    assert not failed, failed
    assert titles(output) == ["pin 0", "pin 1", "pin 2"]
    assert titles(poll("new_pin", inputs, output["state"])) == ["during"]


def test_emit_existing_reports_the_newest_page_oldest_first(poll, board, sandbox):
    output = poll("new_pin", {"board_id": board, "emit_existing": True, "page_size": 4}, None)
    assert output["success"] and len(output["events"]) == 4
    created = [event["created_at"] for event in output["events"]]
    assert created == sorted(created)
    sandbox.clear_exchanges()
    assert poll("new_pin", {"board_id": board, "page_size": 4}, output["state"])["events"] == []


def test_a_section_is_watched_alone(poll, create, board, sandbox):
    section = sandbox.sections(board)[0]["id"]
    inputs = {"board_id": board, "board_section_id": section}
    state = poll("new_pin", inputs, None)["state"]
    create("loose")
    create("in the section", board_section_id=section)
    assert titles(poll("new_pin", inputs, state)) == ["in the section"]


def test_a_state_from_another_board_section_or_trigger_is_refused(poll, board, sandbox):
    other = sandbox.boards[1]["id"]
    state = poll("new_pin", {"board_id": board}, None)["state"]
    refused = poll("new_pin", {"board_id": other}, state)
    assert not refused["success"] and refused["events"] == [] and refused["state"] == state
    assert f"board {board}" in refused["error"] and f"board {other}" in refused["error"]
    assert "prime" in refused["error"]
    section = sandbox.sections(board)[0]["id"]
    assert not poll("new_pin", {"board_id": board, "board_section_id": section}, state)["success"]
    boards_state = poll("new_board", {}, None)["state"]
    wrong = poll("new_pin", {"board_id": board}, boards_state)
    assert not wrong["success"] and "'new_board'" in wrong["error"]
    for damaged in ({"v": 99}, {**state, "ids": "x"}, {**state, "created_at": "yesterday"}):
        assert not poll("new_pin", {"board_id": board}, damaged)["success"]
    garbage = poll("new_pin", {"board_id": board}, "not a state")
    assert not garbage["success"] and garbage["state"] is None


def test_new_board_primes_then_reports_a_new_board(poll, sandbox):
    primed = poll("new_board", {}, None)
    assert primed["success"] and primed["events"] == []
    assert poll("new_board", {}, primed["state"])["events"] == []
    sandbox.store.add_board("Brand new board")
    output = poll("new_board", {}, primed["state"])
    assert output["success"] and [event["name"] for event in output["events"]] == ["Brand new board"]
    assert output["events"][0]["board"]["name"] == "Brand new board"
    assert poll("new_board", {}, output["state"])["events"] == []
    existing = poll("new_board", {"emit_existing": True}, None)
    assert len(existing["events"]) == len(sandbox.boards)


def test_bad_inputs_and_unknown_triggers_are_values(poll, host):
    assert "board_id" in poll("new_pin", {}, None)["error"]
    assert not poll("new_pin", {"board_id": "12", "page_size": 0}, None)["success"]
    with pytest.raises(HostError, match="no trigger 'nope'.*new_pin, new_board"):
        host.poll(PLUGIN, "nope", {}, {"mode": "access_token", "access_token": TOKEN})


def test_the_state_keeps_every_id_at_its_mark_and_stays_within_the_declared_size():
    at = triggers.parse_time("2026-01-01T00:00:00Z")
    rows = [triggers.Row(at, str(n), {}) for n in range(500)]
    _, _, kept = triggers.advance(None, rows, 0)
    state = triggers.write_state("new_pin", {"board_id": "1"}, triggers.Mark(at, frozenset()), kept)
    assert sorted(state["ids"]) == sorted(str(n) for n in range(500))
    # The largest state the plugin can write: MAX_SEEN ids of the longest shape, the longest board ids.
    longest = "9" * triggers.MAX_ID_DIGITS
    ids = [str(10**31 + n) for n in range(triggers.MAX_SEEN)]
    inputs = {"board_id": longest, "board_section_id": longest}
    state = triggers.write_state("new_pin", inputs, triggers.Mark(at, frozenset(ids)), ids)
    assert triggers.state_bytes(state) <= triggers.state_max_bytes() == 64 * 1024
    with pytest.raises(triggers.PollError, match=f"More than {triggers.MAX_SEEN} items were created within one"):
        triggers.advance(None, [triggers.Row(at, str(n), {}) for n in range(triggers.MAX_SEEN + 1)], 0)


def test_the_host_serves_version_2_and_3_plugins_and_refuses_others():
    class V2:
        @hookimpl
        def modulex_plugin_manifest(self):
            return {"id": "v2", "contract_version": 2, "actions": []}

    class V4:
        @hookimpl
        def modulex_plugin_manifest(self):
            return {"id": "v4", "contract_version": 4, "actions": []}

    host = Host(plugins=[V2(), V4()])
    assert host.manifest("v2")["contract_version"] == 2
    with pytest.raises(HostError, match="no trigger 'new_pin' \\(triggers: none\\)"):
        host.poll("v2", "new_pin", {})
    with pytest.raises(HostError, match="needs host contract version 4; this host speaks versions 2 and 3"):
        host.manifest("v4")
    assert [t["name"] for t in host.manifest(PLUGIN)["triggers"]] == ["new_pin", "new_board"]
    assert all(isinstance(t["event_schema"], dict) for t in host.manifest(PLUGIN)["triggers"])


def test_the_poll_command_keeps_its_state_in_a_file(sandbox, create, board, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", sandbox.access_token)
    state_file = tmp_path / "state.json"
    args = ["poll", "new_pin", "--input", json.dumps({"board_id": board}), "--state", str(state_file)]
    args += ["--base-url", sandbox.base_url]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["events"] == []
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    create("from the cli")
    assert main(args) == 0
    assert [e["title"] for e in json.loads(capsys.readouterr().out)["events"]] == ["from the cli"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["events"] == []
    # No temporary file left; the polls' turn lock stays beside the state, empty and private.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.lock"]
    assert stat.S_IMODE(os.stat(tmp_path / "state.json.lock").st_mode) == 0o600
    # A failed poll keeps the file as it was.
    before = state_file.read_bytes()
    other = ["poll", "new_pin", "--input", json.dumps({"board_id": sandbox.boards[1]["id"]}), "--state"]
    assert main([*other, str(state_file), "--base-url", sandbox.base_url]) == 1
    assert not json.loads(capsys.readouterr().out)["success"]
    assert state_file.read_bytes() == before
    # A state file that is not JSON is a usage error.
    state_file.write_text("{not json")
    assert main(args) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main(["poll", "nope", "--state", str(state_file), "--base-url", sandbox.base_url]) == 2


def test_each_triggers_request_names_the_specs_rate_limit_category(contract):
    if contract is None:
        pytest.skip("Pinterest's OpenAPI description is absent")
    from modulex_pinterest.plugin.spec import manifest

    for entry in manifest.raw_manifest()["triggers"]:
        request = entry["request"]
        for template in filter(None, (request["path"], request.get("section_path"))):
            path = template.replace("{board_id}", "1").replace("{board_section_id}", "2")
            op_id = contract.operation_id(request["method"], "/v5" + path)
            operation = next(
                op
                for ops in contract.spec_dict["paths"].values()
                for op in ops.values()
                if isinstance(op, dict) and op.get("operationId") == op_id
            )
            assert request["rate_limit_category"] == operation["x-ratelimit-category"], template


def test_describe_shows_a_trigger_with_its_event_schema(capsys):
    assert main(["describe", "new_pin"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["poll_interval_seconds"] == 300 and entry["event_schema"]["title"] == "NewPinEvent"
