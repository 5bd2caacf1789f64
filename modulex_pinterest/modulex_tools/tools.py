"""``TOOLS``: one async LangChain tool per action, ``api_key`` first, then the action's inputs.

The tools' argument schema is the action's input schema (JSON Schema, passed
to LangChain as is) with ``api_key`` in front, so the argument names are the
plugin's (the same as ``modulex-integrations``' Pinterest tools for the four
actions both have). LangChain passes a JSON Schema's arguments through
unchecked; the plugin validates them, and a bad argument comes back as
``success: false`` with an error naming the field, never as an exception and
never as a request. The return annotation of each tool's coroutine is a model
whose JSON Schema is the action's output schema: the runtime derives the
tool's output schema from it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict

from ..apps.agent_tools import tool_description
from . import runtime

__all__ = ["TOOLS", "build_tools"]

API_KEY_SCHEMA = {"type": "string", "description": "Pinterest OAuth access token (the runtime fills it in)"}


class ActionOutput(BaseModel):
    """An action's output; ``model_json_schema`` is the action's output schema from ``schemas/``."""

    model_config = ConfigDict(extra="allow")
    output_schema: ClassVar[dict[str, Any]] = {}

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return copy.deepcopy(cls.output_schema)


def _output_model(entry: dict[str, Any]) -> type[ActionOutput]:
    name = "".join(part.title() for part in entry["name"].split("_")) + "Output"
    schema = {key: value for key, value in entry["output_schema"].items() if key != "$schema"}
    return type(name, (ActionOutput,), {"output_schema": schema, "__doc__": f"The output of {entry['name']}."})


def _args_schema(entry: dict[str, Any]) -> dict[str, Any]:
    schema = entry["input_schema"]
    return {
        "type": "object",
        "title": entry["title"],
        "properties": {"api_key": API_KEY_SCHEMA, **copy.deepcopy(schema["properties"])},
        "required": ["api_key", *schema.get("required", [])],
        "additionalProperties": False,
    }


def _run_action(entry: dict[str, Any]) -> Callable[..., Awaitable[dict[str, Any]]]:
    action = entry["name"]

    async def run(api_key: str = "", **inputs: Any) -> dict[str, Any]:
        # The plugin is synchronous (requests): a worker thread keeps the runtime's event loop free.
        return await asyncio.to_thread(
            runtime.host().run,
            runtime.PLUGIN,
            action,
            inputs,
            runtime.credentials(api_key),
            runtime.settings(),
        )

    run.__name__ = run.__qualname__ = action
    run.__doc__ = entry["description"]
    run.__annotations__ = {"api_key": "str", "inputs": "Any", "return": _output_model(entry)}
    return run


def build_tools(plugin: dict[str, Any]) -> tuple[BaseTool, ...]:
    """One tool per action of a plugin manifest (as the host returns it), in its order."""
    return tuple(
        StructuredTool.from_function(
            coroutine=_run_action(entry),
            name=entry["name"],
            description=tool_description(plugin, entry),
            args_schema=_args_schema(entry),
        )
        for entry in plugin["actions"]
    )


TOOLS = build_tools(runtime.plugin_manifest())
"""The integration's tools, built when the runtime imports this module."""
