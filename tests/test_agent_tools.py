"""``modulex-pinterest tools --format mcp|openai``: tool definitions for AI agents, from the manifest."""

import json
import re
import subprocess
import sys

import pytest

from conftest import ACTIONS
from modulex_pinterest.apps.agent_tools import action_for_tool, tool_definitions
from test_cli import cli

OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def without_schema_keyword(schema):
    return {key: value for key, value in schema.items() if key != "$schema"}


def tools(fmt, tmp_path):
    result = cli("tools", "--format", fmt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def id_sources(entry):
    """ID input -> the action whose results it comes from, as the manifest's pickers say."""
    return {field: option["source"] for field, option in (entry.get("ui") or {}).get("options", {}).items()}


def test_mcp_tools(tmp_path, host):
    manifest = host.manifest("pinterest")
    defined = tools("mcp", tmp_path)
    assert cli("tools", cwd=tmp_path).stdout == json.dumps(defined, indent=2, ensure_ascii=False) + "\n"  # the default
    assert [tool["name"] for tool in defined] == ACTIONS
    for tool, entry in zip(defined, manifest["actions"], strict=True):
        assert set(tool) <= {"name", "title", "description", "inputSchema", "outputSchema", "annotations"}
        assert tool["title"] == entry["title"]
        assert tool["inputSchema"] == without_schema_keyword(entry["input_schema"])
        assert tool["inputSchema"]["type"] == "object"
        assert tool["outputSchema"] == without_schema_keyword(entry["output_schema"])
        assert tool["description"].startswith(" ".join(entry["agent_description"].split()))
        for example in entry["examples"]:
            assert json.dumps(example["inputs"], ensure_ascii=False) in tool["description"]
        for field, source in id_sources(entry).items():
            assert field in tool["description"] and source in tool["description"], (tool["name"], field)
        annotations = tool["annotations"]
        assert annotations["readOnlyHint"] is (entry["request"]["method"] == "GET")
        assert annotations["destructiveHint"] is (entry["request"]["method"] == "DELETE")
        assert annotations["openWorldHint"] is True
    assert id_sources(manifest["actions"][2]) == {"board_id": "list_boards", "board_section_id": "get_board_sections"}


def test_openai_tools(tmp_path, host):
    manifest = host.manifest("pinterest")
    defined = tools("openai", tmp_path)
    assert [tool["function"]["name"] for tool in defined] == [f"pinterest_{action}" for action in ACTIONS]
    for tool, entry in zip(defined, manifest["actions"], strict=True):
        assert set(tool) == {"type", "function"} and tool["type"] == "function"
        function = tool["function"]
        assert set(function) == {"name", "description", "parameters", "strict"}
        assert OPENAI_NAME.match(function["name"])
        assert action_for_tool(manifest, function["name"], "openai") == entry["name"]
        assert function["parameters"] == without_schema_keyword(entry["input_schema"])
        # Optional fields and defaults are not strict-mode schemas; strict stays off on purpose.
        assert function["strict"] is False
        assert 0 < len(function["description"]) <= 1024
        # Other tools are named as the model sees them: pinterest_list_boards, never a bare list_boards.
        for field, source in id_sources(entry).items():
            assert field in function["description"] and f"pinterest_{source}" in function["description"]
        assert not re.search(r"(?<![\w])(" + "|".join(ACTIONS) + r")(?![\w])", function["description"])


def test_definitions_leave_the_manifest_alone_and_reject_unknown_formats(host):
    manifest = host.manifest("pinterest")
    before = json.dumps(manifest, sort_keys=True)
    for fmt in ("mcp", "openai"):
        for tool in tool_definitions(manifest, fmt):
            schema = tool.get("inputSchema") or tool["function"]["parameters"]
            schema["properties"].clear()
    assert json.dumps(manifest, sort_keys=True) == before
    assert action_for_tool(manifest, "list_pins", "mcp") == "list_pins"
    assert action_for_tool(manifest, "list_pins", "openai") is None
    assert action_for_tool(manifest, "pinterest_archive_board", "openai") is None
    with pytest.raises(ValueError, match="unknown tool format"):
        tool_definitions(manifest, "anthropic")


def test_descriptions_fall_back_to_the_plain_description_and_still_say_where_ids_come_from(host):
    manifest = json.loads(json.dumps(host.manifest("pinterest")))
    for entry in manifest["actions"]:
        entry.pop("agent_description")
        entry.pop("examples")
    by_name = {tool["name"]: tool["description"] for tool in tool_definitions(manifest, "mcp")}
    assert by_name["list_boards"] == "List all Pinterest boards for the authenticated user"
    assert by_name["create_pin"].startswith("Create a new pin on a Pinterest board with an image URL")
    assert "board_id comes from the results of list_boards." in by_name["create_pin"]
    assert (
        "board_section_id comes from the results of get_board_sections (called with the same board_id)."
        in by_name["create_pin"]
    )
    openai = {
        tool["function"]["name"]: tool["function"]["description"] for tool in tool_definitions(manifest, "openai")
    }
    assert "board_id comes from the results of pinterest_list_boards." in openai["pinterest_list_pins"]


def test_tools_does_not_import_the_http_or_validation_stack(tmp_path):
    code = (
        "import sys, json; from modulex_pinterest.apps.agent_tools import tool_definitions; "
        "print(json.dumps(sorted(m for m in ('requests', 'jsonschema', 'mcp') if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
