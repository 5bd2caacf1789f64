"""``modulex-pinterest demo``: a realistic workflow against the embedded sandbox.

It is what an engine does with this plugin: discover it through the entry
point (the reference host), then run nodes in sequence, feeding one node's
output into the next. Nothing leaves loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..contract import Credentials
from ..host import Host

Output = dict[str, Any]
"""One node's output, as the action returned it."""
Summary = Callable[[Output], list[str]]
"""The lines that describe a successful output to a person."""

DEMO_PIN = {
    "title": "Lemon tart, step by step",
    "description": "Created by the modulex-pinterest demo workflow.",
    "media_url": "https://images.example.com/demo/lemon-tart.jpg",
    "link": "https://example.com/recipes/lemon-tart",
    "alt_text": "A lemon tart on a marble counter",
}
LIST_PAGE_SIZE = 4
DEMO_MAX_PAGES = 50


class DemoFailed(Exception):
    """A node answered ``success: false`` (or the sandbox lacks what the next node needs):
    the workflow stops there, as an engine's would."""


class Workflow:
    """Runs nodes one after another with one connection, numbering and printing each."""

    def __init__(
        self, host: Host, plugin: str, credentials: Credentials, settings: dict[str, Any], as_json: bool
    ) -> None:
        self.host, self.plugin = host, plugin
        self.credentials, self.settings = credentials, settings
        self.as_json = as_json
        self.step = 0

    def node(self, action: str, inputs: dict[str, Any], summary: Summary) -> Output:
        """Run one node, print it, and stop the workflow if it failed."""
        self.step += 1
        output = self.host.run(self.plugin, action, inputs, self.credentials, self.settings)
        if self.as_json:
            record = {"step": self.step, "action": action, "inputs": inputs, "output": output}
            print(json.dumps(record, allow_nan=False))
        else:
            title = self.host.action(self.plugin, action)["title"]
            print(f"\n[{self.step}] {title}  {json.dumps(inputs)}")
            if output["success"]:
                for line in summary(output):
                    print("    " + line)
            else:
                print(f"    failed: {output['error']}")
        if not output["success"]:
            raise DemoFailed(output["error"])
        return output


def _items(output: Mapping[str, Any], key: str, label: str) -> list[str]:
    """A list page: its size, its bookmark and its first eight items."""
    lines = [f"{output['count']} {label} on this page; next bookmark: {output['bookmark'] or 'none'}"]
    for item in output[key][:8]:
        extra = f" ({item['pin_count']} pins)" if "pin_count" in item else ""
        lines.append(f"- {item['id']}  {item.get('name') or item.get('title') or ''}{extra}")
    if output["count"] > 8:
        lines.append(f"  ... and {output['count'] - 8} more")
    return lines


def _pin(output: Mapping[str, Any]) -> list[str]:
    return [
        f"created pin {output['id']} at {output['created_at']}",
        f"title: {output['title']}",
        f"board {output['board_id']}, section {output['board_section_id']}",
    ]


def run_demo(host: Host, plugin: str, as_json: bool = False) -> int:
    """Run the workflow against a fresh sandbox; the exit code (0: the new pin was found in its list)."""
    from ..sandbox import Sandbox

    with Sandbox() as sandbox:
        if not as_json:
            print(f"Embedded Pinterest sandbox at {sandbox.base_url} (loopback only)")
        flow = Workflow(
            host,
            plugin,
            {"mode": "access_token", "access_token": sandbox.access_token},
            {"base_url": sandbox.base_url},
            as_json,
        )
        try:
            boards = flow.node("list_boards", {"page_size": 25}, lambda o: _items(o, "boards", "boards"))
            if not boards["boards"]:
                raise DemoFailed("the sandbox has no boards")
            board = boards["boards"][0]
            sections = flow.node(
                "get_board_sections", {"board_id": board["id"]}, lambda o: _items(o, "sections", "sections")
            )
            section_id = sections["sections"][0]["id"] if sections["sections"] else None
            pin_inputs = dict(DEMO_PIN, board_id=board["id"])
            if section_id:
                pin_inputs["board_section_id"] = section_id
            created = flow.node("create_pin", pin_inputs, _pin)
            found, bookmark, pages = None, None, 0
            while pages < DEMO_MAX_PAGES:
                inputs = {"board_id": board["id"], "page_size": LIST_PAGE_SIZE}
                if section_id:
                    inputs["board_section_id"] = section_id
                if bookmark:
                    inputs["bookmark"] = bookmark
                page = flow.node("list_pins", inputs, lambda o: _items(o, "pins", "pins"))
                pages += 1
                found = found or next((p for p in page["pins"] if p["id"] == created["id"]), None)
                bookmark = page["bookmark"]
                if not bookmark:
                    break
        except DemoFailed as exc:
            if not as_json:
                print(f"\nThe workflow stopped: {exc}")
            return 1
        if found is None:
            if not as_json:
                print("\nThe new pin did not show up in its section's list.")
            return 1
        if not as_json:
            print(f"\nThe new pin, as listed in its section after {pages} page(s):")
            print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
