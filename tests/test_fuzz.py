"""Property-based fuzzing of the hook boundary, with bounded, derandomized runs.

- Valid inputs generated from each input schema: the request sent validates
  against Pinterest's OpenAPI description, and the output against the output schema.
- Arbitrary JSON as inputs: the hook never raises, the output validates, and
  nothing is sent when the inputs are invalid.
"""

import datetime as dt

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from conftest import ACTIONS as ALL_ACTIONS
from conftest import TOKEN
from modulex_pinterest.plugin.spec import manifest
from scripted_server import Reply

ACTIONS = ["list_boards", "get_board_sections", "create_pin", "list_pins"]
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PIN = {"id": "813744226420795884", "title": "t", "board_id": "1", "created_at": "2026-11-01T10:00:00Z"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


# The plugin's own string formats (modulex_pinterest/plugin/validation.py), so that
# generated inputs are valid by every rule, not only the schema's patterns.
_TODAY = dt.datetime.now(dt.timezone.utc).date()
FORMATS = {
    "pinterest-id": st.from_regex(r"\A[0-9]{1,32}\Z"),
    "http-url": st.from_regex(r"\Ahttps?://[a-z0-9]{1,20}(\.[a-z]{2,6})?(/[A-Za-z0-9._~%-]{0,30})?\Z"),
    "one-line-text": st.text(min_size=1, max_size=100).filter(lambda t: t.isprintable() and not t.isspace()),
    # Days around today, so that some date ranges pass the analytics rules and are sent.
    "calendar-date": st.integers(-100, 5).map(lambda n: (_TODAY + dt.timedelta(days=n)).isoformat()),
}


def _answer(recorded):
    if recorded.method == "POST":
        return Reply(status=201, body=PIN)
    return Reply(body={"items": [{"id": "1", "name": "b"}], "bookmark": None})


def _validator(schema):
    """A validator built once (jsonschema.validate checks the schema itself on every call:
    most of this module's time; test_packaging checks every schema once)."""
    return jsonschema.validators.validator_for(schema)(schema)


def _inputs_with_known_keys(action):
    names = list(manifest.load_schema(manifest.spec().actions[action].input_schema)["properties"])
    return st.dictionaries(st.sampled_from(names + ["extra"]), json_values, max_size=len(names) + 1)


@pytest.mark.parametrize("action", ACTIONS)
def test_valid_inputs_send_requests_that_pinterest_would_accept(host, server, contract, run, action):
    if contract is None:
        pytest.skip("Pinterest's OpenAPI description is absent (see test_contract.py)")
    server.respond = _answer
    schema = host.action("pinterest", action)["input_schema"]
    output_validator = _validator(host.action("pinterest", action)["output_schema"])
    sent = []

    @FUZZ
    @given(inputs=from_schema(schema, custom_formats=FORMATS))
    def check(inputs):
        server.requests.clear()
        out = run(action, inputs, server.base_url, max_retries=0)
        output_validator.validate(out)
        if out["success"]:
            (request,) = server.requests
            contract.check_request(request.method, request.path, request.query, request.headers, request.body)
            sent.append(request)
        else:
            # Stricter than the schema's pattern (e.g. "12\n"): refused without a request.
            assert out["error"].startswith("Invalid input") and server.requests == []

    check()
    assert len(sent) >= 36, "inputs valid by the schema and its formats should reach the server"


@pytest.mark.parametrize("action", ACTIONS)
def test_arbitrary_json_never_raises_and_invalid_inputs_send_nothing(host, server, run, action):
    server.respond = _answer
    output_validator = _validator(host.action("pinterest", action)["output_schema"])

    @FUZZ
    @given(inputs=json_values | _inputs_with_known_keys(action))
    def check(inputs):
        server.requests.clear()
        out = run(action, inputs, server.base_url, max_retries=0)
        output_validator.validate(out)
        assert TOKEN not in repr(out)
        if not out["success"]:
            assert out["error"] and server.requests == []

    check()


@pytest.mark.parametrize("action", [a for a in ALL_ACTIONS if a not in ACTIONS])
def test_every_other_action_never_raises_on_arbitrary_json_against_the_sandbox(host, sandbox, run, action):
    """The media and management actions, on the sandbox: whatever arrives, the hook answers an
    output that validates, without the token; inputs its schema refuses send nothing (what is
    sent is held to Pinterest's OpenAPI description by the sandbox fixture)."""
    entry = host.action("pinterest", action)
    input_validator, output_validator = _validator(entry["input_schema"]), _validator(entry["output_schema"])

    @settings(FUZZ, max_examples=25)  # eleven actions: fewer examples each keeps the suite fast
    @given(inputs=json_values | _inputs_with_known_keys(action))
    def check(inputs):
        sandbox.clear_exchanges()
        out = run(action, inputs, sandbox.base_url, token=sandbox.access_token, max_retries=0)
        output_validator.validate(out)
        assert sandbox.access_token not in repr(out)
        if not input_validator.is_valid(inputs):
            assert out["success"] is False and out["error"] and sandbox.exchanges == []

    check()


# Where JSON Schema validators are known to part ways: booleans as integers,
# whole floats, a newline after digits (re.search with "$"), non-ASCII digits,
# URLs that are not http(s).
TRICKY_INPUTS = [
    ("list_pins", {"board_id": "1", "page_size": True}),
    ("list_pins", {"board_id": "1", "page_size": 25.0}),
    ("list_pins", {"board_id": "1", "max_items": 1.5}),
    ("list_pins", {"board_id": "12\n"}),
    ("list_pins", {"board_id": "\u0661\u0662"}),
    ("list_pins", {"board_id": "1", "board_section_id": ""}),
    ("list_boards", {"fetch_all": 1}),
    ("create_pin", {"board_id": "1", "title": "t", "media_url": "javascript:alert(1)//http://x"}),
    ("create_pin", {"board_id": "1", "title": "t", "media_url": "https://e.com/a.jpg\n"}),
    ("create_pin", {"board_id": "1", "title": "t", "media_url": "https://e.com/a.jpg", "link": ""}),
    ("create_pin", {"board_id": "1", "title": "t", "media_url": "HTTPS://e.com/a.jpg"}),
]


@pytest.mark.parametrize(("action", "inputs"), TRICKY_INPUTS)
def test_the_fast_validator_and_jsonschema_agree_where_validators_differ(action, inputs):
    """The fast compiled check and jsonschema (which names the error) must judge alike."""
    import fastjsonschema

    from modulex_pinterest.plugin.spec import validation

    path = manifest.spec().actions[action].input_schema
    try:
        validation._compiled(path)(inputs)
        fast_accepts = True
    except fastjsonschema.JsonSchemaException:
        fast_accepts = False
    jsonschema_accepts = validation._validator(path).is_valid(inputs)
    assert fast_accepts == jsonschema_accepts, inputs
