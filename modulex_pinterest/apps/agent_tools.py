"""The plugin's actions as tool definitions for AI agents, built from the manifest.

``tool_definitions(manifest, "mcp")`` gives MCP ``Tool`` objects (as served by
``modulex-pinterest mcp``); ``tool_definitions(manifest, "openai")`` gives
OpenAI function-calling tools (the Chat Completions shape
``{"type": "function", "function": {...}}``).

Nothing here is written by hand per action: the description is the action's
``agent_description`` (else its ``description``), plus a line saying where
each ID input comes from (from ``ui.options``) when the text does not already
name that tool, plus the manifest's examples. The input schema is the
action's own, less ``$schema``, so what a model sends is exactly what the
action validates.

Tool names:

- MCP: the action names (``list_boards``...). MCP clients keep each server's
  tools apart themselves (by server name, e.g. ``mcp__pinterest__list_boards``),
  and the names are then the ones ``host.run`` takes.
- OpenAI: ``<plugin id>_<action>`` (``pinterest_list_boards``...). An OpenAI
  request has one flat tool namespace shared with every other integration the
  caller mixes in, where a bare ``list_boards`` would be ambiguous; the action
  is the name less the ``pinterest_`` prefix (see ``action_for_tool``).
  References to other tools inside descriptions are renamed to match.

``strict`` is set to false for OpenAI on purpose: strict mode needs every
property listed in ``required`` (optional ones typed as nullable) and no
``default`` or ``format: uri``, which these schemas use and the action would
reject as ``null``. Without strict the model is guided by the schema and the
action validates what arrives, answering a readable error.

Pure and fast: the standard library only.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

Manifest = Mapping[str, Any]
"""A plugin manifest as the host returns it (``host.manifest(plugin)``); only read here."""
ActionEntry = Mapping[str, Any]
"""One entry of ``manifest["actions"]``: name, title, descriptions, schemas, ``ui``, examples."""
ToolDefinition = dict[str, Any]
"""One tool, as JSON: an MCP ``Tool`` or an OpenAI function tool."""

TOOL_FORMATS = ("mcp", "openai")

# OpenAI rejects function descriptions longer than this (string_above_max_length).
OPENAI_DESCRIPTION_LIMIT = 1024


def tool_name(manifest: Manifest, action: str, fmt: str) -> str:
    """The tool name of ``action`` in format ``fmt``."""
    return f"{manifest['id']}_{action}" if fmt == "openai" else action


def action_for_tool(manifest: Manifest, name: str, fmt: str) -> str | None:
    """The action a tool name stands for (inverse of ``tool_name``), or None."""
    actions = {entry["name"] for entry in manifest["actions"]}
    if fmt == "openai":
        prefix = f"{manifest['id']}_"
        if not name.startswith(prefix):
            return None
        name = name[len(prefix) :]
    return name if name in actions else None


def _strip_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without ``$schema`` (the manifest's own stays untouched)."""
    return copy.deepcopy({key: value for key, value in schema.items() if key != "$schema"})


def _rename_tools(text: str, names: Mapping[str, str]) -> str:
    """Rename whole-word mentions of action names to their tool names."""
    if not names or all(action == name for action, name in names.items()):
        return text
    pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?![\w])")
    return pattern.sub(lambda match: names[match.group(1)], text)


def _id_sources(entry: ActionEntry, text: str) -> list[str]:
    """Lines naming the tool each ID input comes from, when ``text`` does not already."""
    lines: list[str] = []
    properties = entry["input_schema"].get("properties", {})
    for field, option in ((entry.get("ui") or {}).get("options") or {}).items():
        source = (option or {}).get("source")
        if not source or field not in properties or re.search(rf"(?<![\w]){re.escape(source)}(?![\w])", text):
            continue
        depends = option.get("depends_on") or []
        line = f"{field} comes from the results of {source}"
        if depends:
            line += f" (called with the same {', '.join(depends)})"
        lines.append(line + ".")
    return lines


def _examples(entry: ActionEntry) -> list[str]:
    return [
        f"- {example.get('title') or 'Example'}: {json.dumps(example.get('inputs', {}), ensure_ascii=False)}"
        for example in entry.get("examples") or []
    ]


def tool_description(manifest: Manifest, entry: ActionEntry, fmt: str = "mcp", limit: int | None = None) -> str:
    """A model-facing description of one action: when to use it, where its IDs come from, examples."""
    text = " ".join((entry.get("agent_description") or entry.get("description") or entry["title"]).split())
    parts = [text]
    parts += _id_sources(entry, text)
    description = " ".join(parts)
    examples = _examples(entry)
    if examples:
        with_examples = description + "\n\nExamples (arguments):\n" + "\n".join(examples)
        if limit is None or len(with_examples) <= limit:
            description = with_examples
    names = {action["name"]: tool_name(manifest, action["name"], fmt) for action in manifest["actions"]}
    description = _rename_tools(description, names)
    if limit is not None and len(description) > limit:
        description = description[: limit - 1].rstrip() + "\u2026"
    return description


class ToolAnnotations(TypedDict):
    """MCP's tool annotations (hints to the client, not guarantees), all of them always set."""

    title: str
    readOnlyHint: bool
    destructiveHint: bool
    idempotentHint: bool
    openWorldHint: bool


def _annotations(manifest: Manifest, entry: ActionEntry) -> ToolAnnotations:
    """MCP behaviour hints from the manifest's ``request_semantics`` row for the action's method:
    read-only and destructive as stated there; idempotent when an engine may run it again."""
    method = ((entry.get("request") or {}).get("method") or "").upper()
    semantics = (manifest.get("request_semantics") or {}).get(method) or {}
    return {
        "title": entry["title"],
        "readOnlyHint": bool(semantics.get("read_only")),
        "destructiveHint": bool(semantics.get("destructive")),
        "idempotentHint": bool(semantics.get("rerun")),
        "openWorldHint": True,
    }


def _mcp_tool(manifest: Manifest, entry: ActionEntry) -> ToolDefinition:
    tool: ToolDefinition = {
        "name": tool_name(manifest, entry["name"], "mcp"),
        "title": entry["title"],
        "description": tool_description(manifest, entry, "mcp"),
        "inputSchema": _strip_schema(entry["input_schema"]),
    }
    output_schema = entry.get("output_schema")
    if output_schema and output_schema.get("type") == "object":  # MCP requires an object root
        tool["outputSchema"] = _strip_schema(output_schema)
    tool["annotations"] = _annotations(manifest, entry)
    return tool


def _openai_tool(manifest: Manifest, entry: ActionEntry) -> ToolDefinition:
    return {
        "type": "function",
        "function": {
            "name": tool_name(manifest, entry["name"], "openai"),
            "description": tool_description(manifest, entry, "openai", limit=OPENAI_DESCRIPTION_LIMIT),
            "parameters": _strip_schema(entry["input_schema"]),
            "strict": False,
        },
    }


def tool_definitions(manifest: Manifest, fmt: str) -> list[ToolDefinition]:
    """One tool definition per action of ``manifest``, in the manifest's order."""
    build: Callable[[Manifest, ActionEntry], ToolDefinition]
    if fmt == "mcp":
        build = _mcp_tool
    elif fmt == "openai":
        build = _openai_tool
    else:
        raise ValueError(f"unknown tool format {fmt!r} (formats: {', '.join(TOOL_FORMATS)})")
    return [build(manifest, entry) for entry in manifest["actions"]]
