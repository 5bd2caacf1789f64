"""The ModuleX runtime's face (``modulex.tools`` entry point) on the sandbox.

Runs where ``modulex-integrations`` is installed (Python 3.12 or newer):
``.ci/run`` makes a venv of its own for it with ``pip install '.[modulex,test]'``.
The last tests restate ``modulex-integrations``' own Pinterest tests (0.14.0,
``tools/pinterest/tests/test_pinterest.py``) against this face and the
sandbox, checking each answer with that package's own output models.
"""

import asyncio
import base64
import copy
import sys
import typing
from importlib.metadata import entry_points
from typing import Any

import pytest

from conftest import ACTIONS, PLUGIN
from modulex_pinterest.host import Host

if sys.version_info < (3, 12):
    pytest.skip(
        "the ModuleX face needs Python 3.12 or newer (as modulex-integrations does); "
        ".ci/run tests it in a venv of its own when a python3.12 is on the machine",
        allow_module_level=True,
    )
pytest.importorskip(
    "modulex_integrations",
    reason="modulex-integrations is not installed: pip install '.[modulex]' (.ci/run tests it in a venv of its own)",
)

from jsonschema import Draft202012Validator  # noqa: E402
from modulex_integrations.schema import IntegrationManifest  # noqa: E402
from modulex_integrations.tools.pinterest import TOOLS as UPSTREAM_TOOLS  # noqa: E402
from modulex_integrations.tools.pinterest.outputs import (  # noqa: E402
    CreatePinOutput,
    GetBoardSectionsOutput,
    ListBoardsOutput,
    ListPinsOutput,
)

BOARD = "397233545249"  # the sandbox's "Kitchen ideas"
SECTION = "6919439268835"  # its "Breakfast" section
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def _face():
    (entry,) = [e for e in entry_points(group="modulex.tools") if e.name == "modulex_pinterest"]
    return entry.load()


@pytest.fixture
def face(sandbox, monkeypatch):
    """The face as the runtime loads it, calling the sandbox (``PINTEREST_BASE_URL``)."""
    monkeypatch.setenv("PINTEREST_BASE_URL", sandbox.base_url)
    return _face()


def call(face, tool_name, /, **arguments):
    """What the runtime does: the tool's ``ainvoke`` with the bearer token as ``api_key``."""
    (tool,) = [t for t in face.TOOLS if t.name == tool_name]
    return asyncio.run(tool.ainvoke(arguments))


def test_the_entry_point_does_not_collide_with_modulex_integrations_own_pinterest():
    tools = {e.name: e.value for e in entry_points(group="modulex.tools")}
    assert tools["modulex_pinterest"] == "modulex_pinterest.modulex_tools"
    assert tools["pinterest"] == "modulex_integrations.tools.pinterest"
    assert _face().manifest.name == "modulex_pinterest"


def test_the_two_pinterest_integrations_are_listed_under_different_names():
    from modulex_integrations.tools.pinterest import manifest as upstream

    ours = _face().manifest
    assert upstream.display_name == "Pinterest"
    assert ours.display_name == "Pinterest (modulex-pinterest)"
    assert (ours.name, ours.display_name) != (upstream.name, upstream.display_name)


def test_the_readme_check_prints_the_integration_and_its_tools(tmp_path):
    """The README's ModuleX check, run as written where the face can load (its failure elsewhere:
    tests/test_first_hour_faces.py)."""
    from readme_blocks import run_modulex_check

    proc = run_modulex_check(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"modulex_pinterest Pinterest (modulex-pinterest): {len(ACTIONS)} tools\n"


def test_manifest_is_an_integration_manifest_with_every_action(host):
    face = _face()
    assert isinstance(face.manifest, IntegrationManifest)
    IntegrationManifest.model_validate(face.manifest.model_dump())  # extra="forbid" everywhere: a round trip
    plugin = host.manifest(PLUGIN)
    assert [a.name for a in face.manifest.actions] == ACTIONS
    for action, entry in zip(face.manifest.actions, plugin["actions"], strict=True):
        schema = entry["input_schema"]
        assert list(action.parameters) == list(schema["properties"])
        assert {n for n, p in action.parameters.items() if p.required} == set(schema.get("required", []))
        assert action.parameters.get("page_size") is None or action.parameters["page_size"].default == 25


def test_manifest_has_both_auth_schemas_with_the_pages_oauth_urls_and_scopes():
    by_type = {schema.auth_type: schema for schema in _face().manifest.auth_schemas}
    assert set(by_type) == {"api_key", "oauth2"}
    oauth = by_type["oauth2"].oauth_config
    assert oauth.auth_url == "https://www.pinterest.com/oauth/"
    assert oauth.token_url == "https://api.pinterest.com/v5/oauth/token"
    assert oauth.token_auth_method == "basic"
    assert oauth.scopes == ["boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read"]
    for schema in by_type.values():
        assert schema.test_endpoint.url == "https://api.pinterest.com/v5/user_account"
    assert [v.name for v in by_type["api_key"].setup_environment_variables] == ["PINTEREST_API_KEY"]
    secret = {v.name: v.sensitive for v in by_type["oauth2"].setup_environment_variables}
    assert secret == {"PINTEREST_OAUTH2_CLIENT_ID": False, "PINTEREST_OAUTH2_CLIENT_SECRET": True}


def test_one_async_tool_per_action_with_api_key_first_and_the_upstream_argument_names():
    face = _face()
    assert [t.name for t in face.TOOLS] == ACTIONS
    for tool in face.TOOLS:
        assert tool.coroutine is not None
        assert list(tool.args)[0] == "api_key"
    ours = {t.name: list(t.args) for t in face.TOOLS}
    for tool, action in zip(face.TOOLS, ACTIONS, strict=True):
        output_schema = Host().action(PLUGIN, action)["output_schema"]
        returned = typing.get_type_hints(tool.coroutine)["return"]  # what the runtime reads for the output schema
        assert returned.model_json_schema() == {k: v for k, v in output_schema.items() if k != "$schema"}
    for upstream in UPSTREAM_TOOLS:
        names = list(upstream.args)
        assert ours[upstream.name][: len(names)] == names, upstream.name


def _inputs(entry: dict[str, Any], pin_id: str) -> dict[str, Any]:
    """The action's first manifest example, on a pin the sandbox has, with the local file of
    create_pin_from_file sent as base64 (this face has no file roots: a runtime's tools read
    no local files)."""
    inputs = copy.deepcopy(entry["examples"][0]["inputs"])
    if "pin_id" in inputs:
        inputs["pin_id"] = pin_id
    if "pin_ids" in inputs:
        inputs["pin_ids"] = [pin_id]
    if entry["name"] == "create_pin_from_file":
        del inputs["file_path"]
        inputs.update(image_base64=base64.b64encode(PNG).decode(), content_type="image/png")
    return inputs


@pytest.mark.parametrize("action", ACTIONS)
def test_each_tool_runs_its_action_on_the_sandbox(face, sandbox, host, action):
    entry = host.action(PLUGIN, action)
    pin_id = call(face, "list_pins", api_key=sandbox.access_token, board_id=BOARD, page_size=1)["pins"][0]["id"]
    sandbox.clear_exchanges()
    output = call(face, action, api_key=sandbox.access_token, **_inputs(entry, pin_id))
    Draft202012Validator(entry["output_schema"]).validate(output)
    if action == "create_video_pin":
        # A video comes from a local file or a URL the plugin downloads: no file roots and no
        # private network here, so the clip is refused, clearly and before anything is sent.
        assert output["success"] is False and "file_roots" in output["error"]
        assert sandbox.exchanges == []
    else:
        assert output["success"] is True, output["error"]
        assert sandbox.exchanges, "the tool did not call the sandbox"


@pytest.mark.parametrize("board_id", ["../user_account", f"{BOARD}/../../user_account", "1?x=1", "%2e%2e", "1#x"])
def test_a_path_injection_board_id_is_refused_before_any_request(face, sandbox, board_id):
    output = call(face, "list_pins", api_key=sandbox.access_token, board_id=board_id)
    assert output["success"] is False
    assert "board_id" in output["error"]
    assert sandbox.exchanges == []


def test_bad_arguments_come_back_as_an_error_naming_the_field(face, sandbox):
    output = call(face, "list_boards", api_key=sandbox.access_token, page_size=0, colour="red")
    assert output["success"] is False and output["boards"] == []
    assert "page_size" in output["error"] or "colour" in output["error"]
    assert sandbox.exchanges == []
    missing = call(face, "list_boards", api_key="")
    assert missing["success"] is False and "credentials" in missing["error"].lower()


def test_the_token_never_appears_in_an_answer(face, sandbox):
    output = call(face, "get_board_sections", api_key=sandbox.access_token + "x", board_id=BOARD)
    assert output["success"] is False
    assert sandbox.access_token not in str(output)


def test_concurrent_calls_share_one_host_and_all_succeed(face, sandbox):
    (tool,) = [t for t in face.TOOLS if t.name == "list_pins"]

    async def many():
        calls = [tool.ainvoke({"api_key": sandbox.access_token, "board_id": BOARD, "page_size": 5}) for _ in range(8)]
        return await asyncio.gather(*calls)

    outputs = asyncio.run(many())
    assert [o["success"] for o in outputs] == [True] * 8
    assert len({tuple(p["id"] for p in o["pins"]) for o in outputs}) == 1
    assert len(sandbox.exchanges) == 8


# modulex-integrations' own Pinterest tests, restated against this face and the sandbox.


def test_four_actions_are_among_ours():
    assert {t.name for t in UPSTREAM_TOOLS} <= {a.name for a in _face().manifest.actions}


def test_two_auth_schemas():
    assert {a.auth_type for a in _face().manifest.auth_schemas} == {"api_key", "oauth2"}


def test_list_boards(face, sandbox):
    result = ListBoardsOutput.model_validate(call(face, "list_boards", api_key=sandbox.access_token, page_size=1))
    assert result.success is True
    assert result.count == 1
    assert result.boards[0]["name"] == sandbox.boards[0]["name"]
    assert result.bookmark  # the sandbox has more boards than one


def test_list_boards_auth_error(face, sandbox):
    result = ListBoardsOutput.model_validate(call(face, "list_boards", api_key="pina_wrong"))
    assert result.success is False
    assert result.error is not None and "Authentication" in result.error


def test_get_board_sections(face, sandbox):
    result = GetBoardSectionsOutput.model_validate(
        call(face, "get_board_sections", api_key=sandbox.access_token, board_id=BOARD)
    )
    assert result.success is True
    assert result.sections[0]["name"] == sandbox.sections(BOARD)[0]["name"] == "Breakfast"


def test_create_pin(face, sandbox):
    result = CreatePinOutput.model_validate(
        call(
            face,
            "create_pin",
            api_key=sandbox.access_token,
            board_id=BOARD,
            title="Sunset",
            media_url="https://example.com/sunset.jpg",
        )
    )
    assert result.success is True
    assert result.id and result.title == "Sunset" and result.board_id == BOARD
    pins = call(face, "list_pins", api_key=sandbox.access_token, board_id=BOARD, fetch_all=True)
    assert result.id in {pin["id"] for pin in pins["pins"]}


def test_list_pins_board(face, sandbox):
    result = ListPinsOutput.model_validate(call(face, "list_pins", api_key=sandbox.access_token, board_id=BOARD))
    assert result.success is True
    assert result.count == len(result.pins) > 0
    assert result.board_section_id is None


def test_list_pins_section(face, sandbox):
    result = ListPinsOutput.model_validate(
        call(face, "list_pins", api_key=sandbox.access_token, board_id=BOARD, board_section_id=SECTION)
    )
    assert result.success is True
    assert result.board_section_id == SECTION
