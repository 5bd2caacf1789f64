"""The example flows of examples/langflow/, run by Langflow's engine (``lfx run``) against the sandbox.

Needs ``lfx`` installed beside the tests (``pip install '.[langflow,test]'``, as .ci/langflow
does); skipped without it. Each check runs the committed flow JSON (what the editor saves and
imports) with the fields a user would fill in, the token from the environment as Langflow's
global variable PINTEREST_ACCESS_TOKEN, and the sandbox's URL from $PINTEREST_BASE_URL.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modulex_pinterest.langflow import runtime

LFX = Path(sys.executable).parent / "lfx"
FLOWS = Path(__file__).resolve().parents[2] / "examples" / "langflow"
BUNDLE = Path(runtime.__file__).resolve().parent / "pinterest"

pytestmark = pytest.mark.skipif(
    not LFX.is_file(), reason="lfx (Langflow's engine) is not installed beside these tests: run .ci/langflow"
)


def flow(name, **fields):
    """A committed flow with some fields filled in: ``{"node-id": {"field": value}}`` as keyword ``node_id``."""
    document = json.loads((FLOWS / f"{name}.json").read_text())
    nodes = {node["id"]: node for node in document["data"]["nodes"]}
    for node_id, values in fields.items():
        template = nodes[node_id.replace("_", "-")]["data"]["node"]["template"]
        for key, value in values.items():
            template[key]["value"] = value
    return document


def lfx_run(document, tmp_path, sandbox, token=None):
    """``lfx run`` of a flow document: its JSON answer (``success``, ``result`` or ``exception_message``)."""
    path = tmp_path / f"flow-{len(list(tmp_path.glob('flow-*')))}.json"
    path.write_text(json.dumps(document))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_PINTEREST_BASE"))}
    env.update(
        PINTEREST_ACCESS_TOKEN=token or sandbox.access_token,
        PINTEREST_BASE_URL=sandbox.base_url,
        LANGFLOW_LOG_LEVEL="critical",
        DO_NOT_TRACK="true",
    )
    done = subprocess.run([str(LFX), "run", str(path)], capture_output=True, text=True, env=env, timeout=600)
    assert done.stdout.strip(), f"lfx run printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_flows_store_the_current_nodes_and_no_secret():
    for path in sorted(FLOWS.glob("*.json")):
        for node in json.loads(path.read_text())["data"]["nodes"]:
            template = node["data"]["node"]["template"]
            source = BUNDLE / f"{_action_of(template['code']['value'])}.py"
            if source.name != "None.py":
                assert template["code"]["value"] == source.read_text(), f"{path.name}: rebuild the example flows"
                token = template["access_token"]
                assert (token["value"], token["load_from_db"]) == ("PINTEREST_ACCESS_TOKEN", True)
                store = template["credential_store"]  # a Redis URL may hold a password: a password field
                assert (store["value"], store["password"]) == ("", True)


def _action_of(code):
    for line in code.splitlines():
        if line.strip().startswith(("action = ", "trigger = ")):
            return json.loads(line.split("=", 1)[1])
    return None


def test_list_boards_parser_list_pins_returns_the_first_boards_pins(sandbox, tmp_path, host):
    answer = lfx_run(flow("boards_to_pins"), tmp_path, sandbox)
    assert answer["success"], answer
    first = sandbox.boards[0]["id"]
    expected = host.run(
        "pinterest", "list_pins", {"board_id": first}, {"mode": "access_token", "access_token": sandbox.access_token},
        {"base_url": sandbox.base_url},
    )["pins"]  # fmt: skip
    assert answer["result"].split("\n") == [pin["id"] for pin in expected] and expected


def test_create_pin_then_two_polls_of_new_pin_report_that_pin_once(sandbox, tmp_path):
    board = sandbox.boards[1]["id"]
    state = tmp_path / "new_pin.state"
    poll = flow("new_pin_poll", new_pin={"board_id": board, "state_file": str(state)})
    # The first poll primes (what is there now is not new): run here by the runtime the node calls, on the
    # same state file, to spare one start of lfx (tests/test_langflow.py shows a primed poll reports nothing).
    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url, "board_id": board}
    assert runtime.poll("new_pin", {**values, "state_file": str(state)}) == []
    fields = {"board_id": board, "title": "Made in Langflow", "media_url": "https://images.example.com/lf.jpg"}
    created = lfx_run(flow("create_pin", create_pin=fields), tmp_path, sandbox)
    assert created["success"], created
    pin_id = created["result"]
    assert sandbox.get_pin(pin_id)["title"] == "Made in Langflow"
    first, second = lfx_run(poll, tmp_path, sandbox), lfx_run(poll, tmp_path, sandbox)
    assert (first["success"], first["result"]) == (True, pin_id), first
    assert (second["success"], second["result"]) == (True, ""), second


def test_a_bad_token_fails_the_flow_with_the_plugins_401_message(sandbox, tmp_path):
    answer = lfx_run(flow("boards_to_pins"), tmp_path, sandbox, token="pina_not-a-real-token-5ec7e7")
    assert answer["success"] is False
    assert "List Boards" in answer["exception_message"]
    assert "Authentication failed" in answer["exception_message"]  # the plugin's words for Pinterest's 401
    assert "HTTP 401" in answer["exception_message"]
    assert "5ec7e7" not in json.dumps(answer)


def test_an_invalid_input_fails_the_flow_and_sends_no_request(sandbox, tmp_path):
    fields = {"board_id": "my kitchen board", "title": "t", "media_url": "https://images.example.com/lf.jpg"}
    answer = lfx_run(flow("create_pin", create_pin=fields), tmp_path, sandbox)
    assert answer["success"] is False
    assert "board_id" in answer["exception_message"], answer
    assert sandbox.exchanges == []
