"""Triggers that neither repeat nor trust: many pins in one second, and states checked before use.

Polls go through the reference host (and the ``poll`` command) over loopback to the sandbox. The
pins sharing one ``created_at`` are made by the sandbox's own store (``Sandbox.date_new_pins`` dates
them; ``store.create_pin`` is what its POST /pins runs), so 1,000 pins cost no 1,000 requests; the
polls that must tell them apart are real HTTP."""

import json
import time

import pytest

from conftest import PLUGIN
from modulex_pinterest.apps.cli import main
from modulex_pinterest.plugin.actions import triggers

LIMIT = 64 * 1024  # the manifest's trigger_state_max_bytes, as the docs state it


@pytest.fixture
def poll(host, sandbox):
    def _poll(inputs, state):
        credentials = {"mode": "access_token", "access_token": sandbox.access_token}
        return host.poll(PLUGIN, "new_pin", inputs, credentials, {"base_url": sandbox.base_url}, state)

    return _poll


@pytest.fixture
def board(sandbox):
    return sandbox.boards[0]["id"]


def make_pins(sandbox, board, count, second):
    """``count`` pins on ``board``, all created at Unix second ``second``; their ids."""
    sandbox.date_new_pins(second)
    try:
        return [
            sandbox.store.create_pin(
                {"board_id": board, "title": f"pin {n}", "media_source": {"url": "https://example.com/p.jpg"}}
            )["id"]
            for n in range(count)
        ]
    finally:
        sandbox.date_new_pins(None)


def events(output):
    assert output["success"], output["error"]
    return [event["id"] for event in output["events"]]


def test_the_manifest_declares_the_limit_the_docs_state():
    assert triggers.state_max_bytes() == LIMIT


@pytest.mark.parametrize("count", [150, 1000])
def test_many_pins_in_one_second_are_each_reported_once_over_five_polls(poll, sandbox, board, count):
    inputs = {"board_id": board}  # the default page size (50): the pins at the mark fill many pages
    state = poll(inputs, None)["state"]
    second = int(time.time()) - 5
    # Three batches at the same second, a poll after each, then two polls with nothing new.
    sizes = [count // 2, count // 3, count - count // 2 - count // 3, 0, 0]
    batches, reported = [], []
    for number, size in enumerate(sizes, 1):
        batch = make_pins(sandbox, board, size, second)
        output = poll(inputs, state)
        assert events(output) == batch, f"poll {number}"  # each once, oldest first
        batches.append(batch)
        reported += events(output)
        state = output["state"]
        assert triggers.state_bytes(state) <= LIMIT
    assert len(reported) == count == len(set(reported))
    assert set(reported) == {pin for batch in batches for pin in batch}
    assert state["created_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    assert len(state["ids"]) == count


def test_all_at_once_then_one_newer_pin(poll, sandbox, board):
    """The issue's case: 150 pins at one second (was: 50 repeated at every poll), then a pin a second later."""
    inputs = {"board_id": board, "page_size": 25}
    state = poll(inputs, None)["state"]
    second = int(time.time()) - 5
    ids = make_pins(sandbox, board, 150, second)
    first = poll(inputs, state)
    assert events(first) == ids  # oldest first: the sandbox lists newest first, by creation order
    again = poll(inputs, first["state"])
    assert events(again) == []
    later = make_pins(sandbox, board, 1, second + 1)
    third = poll(inputs, again["state"])
    assert events(third) == later and third["state"]["ids"] == later
    assert events(poll(inputs, third["state"])) == []


def test_more_pins_in_one_second_than_a_state_keeps_fail_clearly(poll, sandbox, board):
    inputs = {"board_id": board, "page_size": 250}
    state = poll(inputs, None)["state"]
    second = int(time.time()) - 5
    crowd = make_pins(sandbox, board, triggers.MAX_SEEN + 1, second)
    failed = poll(inputs, state)
    assert not failed["success"] and failed["events"] == [] and failed["state"] == state
    assert f"More than {triggers.MAX_SEEN} items were created within one second" in failed["error"]
    primed = poll(inputs, None)
    assert not primed["success"] and "no state was made" in primed["error"]
    # A pin in a later second moves the mark past them: each is reported once, then nothing.
    later = make_pins(sandbox, board, 1, second + 1)
    output = poll(inputs, state)
    assert events(output) == crowd + later
    assert events(poll(inputs, output["state"])) == []


def _refused(state_of):
    """(state, words in the error) pairs for states the plugin could not have returned."""
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    yield {**state_of, "created_at": "9999-12-31T23:59:59Z"}, "in the future"
    yield {**state_of, "created_at": future}, "in the future"
    yield {**state_of, "created_at": "1970-01-01T00:00:00Z"}, "older than Pinterest"
    yield {**state_of, "created_at": "2026-01-01T00:00:00+00:00"}, "as this plugin writes it"
    ids = [str(10**17 + n) for n in range(triggers.MAX_SEEN + 1)]
    yield {**state_of, "ids": ids}, f"more than the {triggers.MAX_SEEN}"
    yield {**state_of, "ids": ["12", "12"]}, "repeats an id"
    yield {**state_of, "ids": ["12\n"]}, "Pinterest IDs"
    yield {**state_of, "ids": ["١٢"]}, "Pinterest IDs"
    yield {**state_of, "created_at": None, "ids": ["12"]}, "without a 'created_at'"
    yield {**state_of, "note": "x"}, "keys this plugin never writes"
    yield {**state_of, "note": "x" * LIMIT}, f"more than the {LIMIT} a state may be"
    yield {**state_of, "ids": ["1" * 20] * 60000}, f"more than the {LIMIT} a state may be"  # the 1.3 MB


def test_states_the_plugin_could_not_have_returned_are_refused_by_the_hook(poll, board):
    state = poll({"board_id": board}, None)["state"]
    for bad, words in _refused(state):
        output = poll({"board_id": board}, bad)
        assert not output["success"] and output["events"] == [], words
        assert words in output["error"] and "prime" in output["error"], (words, output["error"])
    # A mark a little ahead (a clock off by a minute) is not refused.
    ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    assert poll({"board_id": board}, {**state, "created_at": ahead})["success"]


def test_the_poll_command_refuses_them_too(sandbox, board, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", sandbox.access_token)
    state_file = tmp_path / "state.json"
    args = ["poll", "new_pin", "--input", json.dumps({"board_id": board}), "--state", str(state_file)]
    args += ["--base-url", sandbox.base_url]
    assert main(args) == 0
    state = json.loads(state_file.read_text())
    capsys.readouterr()
    for bad, words in _refused(state):
        state_file.write_text(json.dumps(bad, separators=(",", ":")))
        before = state_file.read_bytes()
        code = main(args)
        captured = capsys.readouterr()
        if len(before) > LIMIT:  # the file is refused before the hook is called: a usage error
            assert code == 2 and f"larger than {LIMIT} bytes" in captured.err, words
        else:
            assert code == 1 and words in json.loads(captured.out)["error"], words
        assert state_file.read_bytes() == before  # a refused state is never written back
