"""Writes the example Langflow flows of this folder from the installed package's nodes.

Run it with Langflow's engine installed (``pip install 'modulex-pinterest[langflow]'``):
``python examples/langflow/build_flows.py``. Each node of a flow stores its source, so
rebuild the flows after regenerating the nodes (the CI check compares them).

- ``boards_to_pins.json``: List Boards -> Parser (``{boards[0][id]}``) -> List Pins ->
  Parser (``{id}``: one pin id a line) -> Chat Output.
- ``create_pin.json``: Create Pin -> Parser (``{id}``) -> Chat Output (fill in a board,
  a title and an image URL first).
- ``new_pin_poll.json``: New Pin (a board and a state file) -> Parser (``{id}``) -> Chat
  Output, meant to run on Langflow's Schedule trigger: each run reports each new pin once.

Every node reads the token from the global variable PINTEREST_ACCESS_TOKEN and the API
from $PINTEREST_BASE_URL when its Base URL field is empty (the sandbox's, say).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lfx.components.input_output import ChatOutput
from lfx.components.processing.parser import ParserComponent
from lfx.custom.eval import eval_custom_component_code
from lfx.graph import Graph

import modulex_pinterest.langflow

HERE = Path(__file__).resolve().parent
BUNDLE = Path(modulex_pinterest.langflow.__file__).resolve().parent / "pinterest"


def node(name: str, node_id: str) -> Any:
    """A Pinterest node made from its generated source, as Langflow makes it from a saved flow."""
    code = (BUNDLE / f"{name}.py").read_text(encoding="utf-8")
    return eval_custom_component_code(code)(_code=code, _id=node_id)


def ids_to_chat(rows: Any, prefix: str) -> ChatOutput:
    """Parser (one id a line) -> Chat Output, fed by a node's table output."""
    parser = ParserComponent(_id=f"{prefix}-ids")
    parser.set(input_data=rows, pattern="{id}", sep="\n")
    chat = ChatOutput(_id=f"{prefix}-chat")
    chat.set(input_value=parser.parse_combined_text)
    return chat


def boards_to_pins() -> Graph:
    boards = node("list_boards", "list-boards")
    first = ParserComponent(_id="first-board")
    first.set(input_data=boards.action_data, pattern="{boards[0][id]}")
    pins = node("list_pins", "list-pins")
    pins.set(board_id=first.parse_combined_text)
    return Graph(boards, ids_to_chat(pins.action_items, "pins"))


def create_pin() -> Graph:
    pin = node("create_pin", "create-pin")
    parser = ParserComponent(_id="pin-id")
    parser.set(input_data=pin.action_data, pattern="{id}")
    chat = ChatOutput(_id="pin-chat")
    chat.set(input_value=parser.parse_combined_text)
    return Graph(pin, chat)


def new_pin_poll() -> Graph:
    trigger = node("new_pin", "new-pin")
    return Graph(trigger, ids_to_chat(trigger.poll_items, "events"))


def handle(data: dict[str, Any]) -> str:
    """An edge end as the editor writes it: compact JSON with sorted keys, quotes as ``œ``."""
    return json.dumps(data, sort_keys=True, separators=(",", ":")).replace('"', "œ")


def for_the_editor(data: dict[str, Any]) -> None:
    """What the editor adds to a flow (node kinds and places left to right, edge handles), in a stable
    order so that a rebuild can be compared."""
    edges = sorted(data["edges"], key=lambda edge: (edge["source"], edge["target"]))
    depth: dict[str, int] = {node["id"]: 0 for node in data["nodes"]}
    for _ in edges:  # longest path from a start: each edge at most once per round
        for edge in edges:
            depth[edge["target"]] = max(depth[edge["target"]], depth[edge["source"]] + 1)
    rows: dict[int, int] = {}
    for node in sorted(data["nodes"], key=lambda node: (depth[node["id"]], node["id"])):
        column = depth[node["id"]]
        node.update(type="genericNode", position={"x": 440 * column, "y": 360 * rows.get(column, 0)})
        rows[column] = rows.get(column, 0) + 1
    for edge in edges:
        edge["sourceHandle"] = handle(edge["data"]["sourceHandle"])
        edge["targetHandle"] = handle(edge["data"]["targetHandle"])
        edge["id"] = f"xy-edge__{edge['source']}{edge['sourceHandle']}-{edge['target']}{edge['targetHandle']}"
    data["nodes"].sort(key=lambda node: node["id"])
    data["edges"] = edges


FLOWS = {
    "boards_to_pins": (boards_to_pins, "List Boards -> Parser -> List Pins: the first board's pins"),
    "create_pin": (create_pin, "Create Pin: a new pin's id"),
    "new_pin_poll": (new_pin_poll, "New Pin, polled (on a Schedule trigger): each new pin's id once"),
}


def flows() -> dict[str, str]:
    """{file name: JSON text} of every example flow."""
    found = {}
    for name, (build, description) in FLOWS.items():
        dumped = build().dump(name=name.replace("_", " ").capitalize(), description=description)
        for_the_editor(dumped["data"])
        found[f"{name}.json"] = json.dumps(dumped, indent=2, sort_keys=True) + "\n"
    return found


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for file_name, text in flows().items():
        (out / file_name).write_text(text, encoding="utf-8")
        print(out / file_name)
