"""The Langflow browser check (issue 23): Langflow's own editor, in Debian's chromium driven by playwright.

Run by ``.ci/langflow-browser`` against a Langflow server that has this package installed and
a sandbox (``PINTEREST_BASE_URL``, ``PINTEREST_ACCESS_TOKEN``: the sandbox's). It opens the
editor, creates a blank flow, searches "Pinterest" in the sidebar and checks that every action
and trigger of the installed manifest is there, drags List Pins onto the canvas, shows and sets
its Base URL, checks that the Board ID picker offers exactly the sandbox's boards, picks a board
that has sections, checks that the section picker then offers exactly that board's sections,
picks one, runs the node with its Run button and reads its output from the output inspector:
the sandbox's pins of that section, no other. Screenshots: ``ARTIFACTS/langflow-list-pins-node.png``
(the node, run) and ``ARTIFACTS/langflow-list-pins-output.png`` (its output), or
``ARTIFACTS/langflow-failure.png`` when a step fails. With ``--flow-screenshot FILE`` it
then wires List Boards -> Parser (``{boards[0][id]}``) -> List Pins in a second flow, runs it and
saves the README's picture to FILE.

Every wait is on a selector, a response or a page condition with a bounded timeout. Not a pytest
module: it needs Langflow, a browser and a running server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Response, expect, sync_playwright

from modulex_pinterest import PLUGIN
from modulex_pinterest.host import Host

STEP = 30_000  # ms: the bound of one UI step (a click's effect, a dropdown's options, a node placed)
SIDEBAR_ITEMS = "[data-testid$=_draggable] [data-testid=display-name]"  # the names of the sidebar's nodes
BUILD = 120_000  # ms: the bound of a node's run (the server evaluates the node's source first)


class CheckFailed(Exception):
    """A step of the check did not show what it must."""


def expected(base_url: str, token: str) -> dict[str, Any]:
    """What the editor must show, asked of the installed plugin through the reference host:
    the titles of every action and trigger, the sandbox's boards, and a board, a section and
    that section's pins."""
    host = Host()
    manifest = host.manifest(PLUGIN)
    titles = [item["title"] for item in [*manifest["actions"], *manifest.get("triggers", [])]]
    credentials: Any = {"access_token": token}
    settings = {"base_url": base_url}

    def options(field: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        answer = host.options(PLUGIN, "list_pins", field, inputs, credentials, settings)
        if not answer.get("success"):
            raise CheckFailed(f"the sandbox did not list {field} choices: {answer.get('error')}")
        return list(answer["options"])

    boards = options("board_id", {})
    for board in boards:
        for section in options("board_section_id", {"board_id": board["value"]}):
            inputs = {"board_id": board["value"], "board_section_id": section["value"]}
            output = host.run(PLUGIN, "list_pins", inputs, credentials, settings)
            if output.get("success") and output["pins"]:
                sections = options("board_section_id", {"board_id": board["value"]})
                return {
                    "titles": titles,
                    "boards": boards,
                    "board": board,
                    "sections": sections,
                    "section": section,
                    "pins": [pin["id"] for pin in output["pins"]],
                }
    raise CheckFailed("the sandbox has no board with a section that holds pins")


def open_blank_flow(page: Page, url: str) -> None:
    """From the start page (empty or not) to an empty canvas with the components sidebar open."""
    page.goto(url)
    page.locator("[data-testid=new_project_btn_empty_page], [data-testid=new-project-btn]").first.click(timeout=STEP)
    page.wait_for_url("**/flow/**", timeout=STEP)
    page.get_by_test_id("flow-builder-welcome-blank-flow").click(timeout=STEP)
    page.get_by_test_id("flow-builder-welcome").wait_for(state="detached", timeout=STEP)
    shown = "e => e.getBoundingClientRect().left >= 0 && !e.closest('[inert]')"
    box = page.get_by_test_id("sidebar-search-input")
    box.wait_for(state="attached", timeout=STEP)
    if not box.evaluate(shown):  # the sidebar keeps its last state: open it when it is closed
        page.locator("button[data-testid=components]").click(timeout=STEP)
    page.wait_for_function(shown.replace("e =>", "(e) =>"), arg=box.element_handle(), timeout=STEP)


def search(page: Page, text: str) -> None:
    box = page.get_by_test_id("sidebar-search-input")
    box.fill(text, timeout=STEP)


def sidebar_titles(page: Page) -> list[str]:
    return page.eval_on_selector_all(SIDEBAR_ITEMS, "els => els.map(e => e.textContent.trim())")


def check_sidebar(page: Page, titles: list[str]) -> None:
    """Search "Pinterest" in the sidebar: every action and trigger (by its manifest title) is listed."""
    search(page, "Pinterest")
    try:
        page.wait_for_function(
            """([titles, items]) => {
                const shown = new Set([...document.querySelectorAll(items)].map(e => e.textContent.trim()));
                return titles.every(t => shown.has(t));
            }""",
            arg=[titles, SIDEBAR_ITEMS],
            timeout=STEP,
        )
    except Exception as exc:
        shown = sidebar_titles(page)
        missing = [title for title in titles if title not in shown]
        raise CheckFailed(f"searching 'Pinterest' does not show {missing} (shown: {shown})") from exc
    print(f"langflow browser: searching 'Pinterest' shows all {len(titles)} actions and triggers")


def drag_node(page: Page, title: str, x: int, y: int) -> Locator:
    """Search ``title`` in the sidebar and drag it onto the canvas at (x, y); the placed node. A drop
    the canvas missed (it may still be settling after the flow opened) is dragged again, three times
    at most; a drop that placed another node fails."""
    search(page, title)
    item = page.locator("[data-testid$=_draggable]").filter(
        has=page.locator("[data-testid=display-name]", has_text=re.compile(f"^{re.escape(title)}$"))
    )
    item.first.wait_for(timeout=STEP)
    before = page.locator(".react-flow__node").count()
    for attempt in range(3):
        item.first.drag_to(page.locator(".react-flow__pane"), target_position={"x": x, "y": y}, timeout=STEP)
        try:
            page.wait_for_function(
                "n => document.querySelectorAll('.react-flow__node').length > n", arg=before, timeout=STEP // 3
            )
            break
        except Exception:
            if attempt == 2:
                raise CheckFailed(f"dragging {title} onto the canvas placed no node (three drags)") from None
            print(f"langflow browser: the canvas missed the drop of {title}; dragging it again")
    node = page.locator(".react-flow__node").filter(has=page.get_by_test_id(f"title-{title}"))
    if not node.count():
        placed = page.locator(".react-flow__node [data-testid=node-name]").all_inner_texts()
        raise CheckFailed(f"dragging {title} placed another node: the canvas holds {placed}")
    return node.last


def is_update(response: Response, field: str) -> bool:
    if "/api/v1/custom_component/update" not in response.url:
        return False
    try:
        return json.loads(response.request.post_data or "{}").get("field") == field
    except ValueError:
        return False


def dropdown_options(page: Page, node: Locator, field: str) -> list[str]:
    """Open the node's ``field`` picker; the labels it offers (the popover stays open)."""
    node.get_by_test_id(f"dropdown_str_{field}").click(timeout=STEP)
    popover = open_picker(page)
    try:
        popover.locator("[role=option]:not([data-disabled=true])").first.wait_for(timeout=STEP)
    except Exception as exc:
        shown = node.get_by_test_id(f"value-dropdown-dropdown_str_{field}").inner_text(timeout=STEP)
        listed = popover.inner_text() if popover.count() else "nothing"
        raise CheckFailed(f"the {field} picker offers no choices: it reads {shown!r} and lists {listed!r}") from exc
    return popover.locator("[role=option]").evaluate_all("els => els.map(e => e.textContent.trim())")


def open_picker(page: Page) -> Locator:
    """The open dropdown's popover (not another open dialog, such as an advertisement)."""
    return page.locator("[role=dialog][data-state=open]").filter(has=page.locator("[role=listbox]")).last


def pick(page: Page, node: Locator, field: str, choices: list[dict[str, Any]], chosen: dict[str, Any]) -> None:
    """Check that ``field``'s picker offers exactly ``choices`` (label and value), then pick ``chosen``."""
    shown = dropdown_options(page, node, field)
    for choice in choices:
        if not any(choice["label"] in text and choice["value"] in text for text in shown):
            raise CheckFailed(f"the {field} picker does not offer {choice['label']} ({choice['value']}): {shown}")
    if len(shown) != len(choices):
        raise CheckFailed(f"the {field} picker offers {len(shown)} choices, the sandbox has {len(choices)}: {shown}")
    option = open_picker(page).locator("[role=option]").filter(has_text=f"({chosen['value']})")
    with page.expect_response(lambda response: is_update(response, field), timeout=STEP):
        option.first.click(timeout=STEP)
    expect(node.get_by_test_id(f"value-dropdown-dropdown_str_{field}")).to_contain_text(chosen["value"], timeout=STEP)
    print(f"langflow browser: {field} picker offers the sandbox's {len(choices)}; picked {chosen['label']}")


def show_advanced(page: Page, node: Locator, field: str) -> None:
    """Show an advanced field on the node through its Parameters panel."""
    node.click(position={"x": 20, "y": 12}, timeout=STEP)  # select the node: its toolbar appears
    page.get_by_test_id("parameters-button").click(timeout=STEP)
    row = page.get_by_test_id(f"inspector-param-{field}")
    row.get_by_role("button", name="Add").click(timeout=STEP)
    page.get_by_test_id(f"inspector-remove-{field}").wait_for(timeout=STEP)
    page.get_by_test_id("parameters-button").click(timeout=STEP)  # close the panel again
    row.wait_for(state="detached", timeout=STEP)


def run_node(page: Page, node: Locator, title: str) -> None:
    """Press the node's Run button; wait until its output can be inspected."""
    with page.expect_response(
        lambda response: "/api/v2/workflows" in response.url and response.request.method == "POST", timeout=STEP
    ) as started:
        node.get_by_test_id(f"button_run_{title.lower()}").click(timeout=STEP)
    if started.value.status >= 400:
        raise CheckFailed(f"starting the run failed: HTTP {started.value.status} {started.value.text()[:300]}")
    inspect = node.locator("[data-testid^=output-inspection-]").first
    page.wait_for_function(
        "e => e && !e.disabled && !e.closest('button:disabled')", arg=inspect.element_handle(), timeout=BUILD
    )


def read_output(page: Page, node: Locator) -> dict[str, Any]:
    """The node's output as its output inspector copies it."""
    node.locator("[data-testid^=output-inspection-]").first.click(timeout=STEP)
    dialog = page.locator("[role=dialog]").filter(has=page.get_by_test_id("copy-output-button"))
    dialog.get_by_test_id("copy-output-button").click(timeout=STEP)
    text = page.evaluate("() => navigator.clipboard.readText()")
    try:
        return dict(json.loads(text))
    except ValueError as exc:
        raise CheckFailed(f"the output inspector's copy is not JSON: {text[:300]!r}") from exc


def check_list_pins(page: Page, url: str, want: dict[str, Any], base_url: str, artifacts: Path) -> None:
    open_blank_flow(page, url)
    check_sidebar(page, want["titles"])
    node = drag_node(page, "List Pins", 520, 260)
    # the token: the global variable made from the environment, as the node's default names it
    expect(node.get_by_test_id("anchor-popover-anchor-input-access_token")).to_contain_text(
        "PINTEREST_ACCESS_TOKEN", timeout=STEP
    )
    show_advanced(page, node, "base_url")
    node.get_by_test_id("popover-anchor-input-base_url").fill(base_url, timeout=STEP)
    pick(page, node, "board_id", want["boards"], want["board"])
    pick(page, node, "board_section_id", want["sections"], want["section"])
    run_node(page, node, "List Pins")
    shot = artifacts / "langflow-list-pins-node.png"
    page.screenshot(path=str(shot))
    print(f"langflow browser: screenshot {shot}")
    output = read_output(page, node)
    got = [pin.get("id") for pin in output.get("pins", [])]
    if not output.get("success") or got != want["pins"]:
        raise CheckFailed(f"List Pins' output is not the section's pins {want['pins']}: {json.dumps(output)[:500]}")
    print(f"langflow browser: List Pins ran; its output holds the section's {len(got)} pins")
    shot = artifacts / "langflow-list-pins-output.png"
    page.screenshot(path=str(shot))
    print(f"langflow browser: screenshot {shot}")
    page.keyboard.press("Escape")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langflow", required=True, help="the Langflow server's URL, e.g. http://127.0.0.1:7860")
    parser.add_argument("--artifacts", required=True, type=Path, help="folder for the screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the browser (Debian's chromium)")
    parser.add_argument("--flow-screenshot", type=Path, help="also wire List Boards -> Parser -> List Pins, save here")
    args = parser.parse_args()
    base_url, token = os.environ["PINTEREST_BASE_URL"], os.environ["PINTEREST_ACCESS_TOKEN"]
    args.artifacts.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    want = expected(base_url, token)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=args.langflow)
            page = context.new_page()
            try:
                check_list_pins(page, args.langflow, want, base_url, args.artifacts)
                if args.flow_screenshot:
                    wired_flow(page, args.langflow, want, args.flow_screenshot)
            except Exception:
                failure = args.artifacts / "langflow-failure.png"
                page.screenshot(path=str(failure))
                print(f"langflow browser: FAILED; screenshot {failure}", file=sys.stderr)
                raise
        finally:
            browser.close()
    print(f"langflow browser: the editor check passed in {time.monotonic() - started:.0f} s")
    return 0


def connect(page: Page, source: str, target: str) -> None:
    """Draw an edge from the handle ``source`` to the handle ``target`` (their data-testid)."""
    before = page.locator(".react-flow__edge").count()
    page.get_by_test_id(source).drag_to(page.get_by_test_id(target), timeout=STEP)
    page.wait_for_function("n => document.querySelectorAll('.react-flow__edge').length > n", arg=before, timeout=STEP)


def wired_flow(page: Page, url: str, want: dict[str, Any], out: Path) -> None:
    """List Boards -> Parser ({boards[0][id]}) -> List Pins, wired and run in the editor; its picture."""
    open_blank_flow(page, url)
    drag_node(page, "List Boards", 30, 150)
    pins = drag_node(page, "List Pins", 810, 150)
    parser = drag_node(page, "Parser", 420, 150)
    parser.get_by_test_id("textarea_str_pattern").fill("{boards[0][id]}", timeout=STEP)
    connect(
        page, "handle-pinterestlistboards-shownode-output-right", "handle-parsercomponent-shownode-json or table-left"
    )
    connect(
        page, "handle-parsercomponent-shownode-parsed text-right", "handle-pinterestlistpins-shownode-board id-left"
    )
    run_node(page, pins, "List Pins")
    output = read_output(page, pins)
    first = want["boards"][0]["value"]
    if not output.get("success") or output.get("board_id") != first or not output.get("pins"):
        raise CheckFailed(f"the wired flow did not list board {first}'s pins: {json.dumps(output)[:500]}")
    page.get_by_test_id("btn-close-modal").first.click(timeout=STEP)
    check_sidebar(page, want["titles"])  # the picture shows where the nodes are
    page.mouse.click(800, 720)  # unselect the node (no toolbar) and move the pointer off it (no tooltip)
    for toast in ("Copied to clipboard", "Flow built successfully"):
        page.get_by_text(toast).first.wait_for(state="hidden", timeout=STEP)
    page.screenshot(path=str(out))
    print(f"langflow browser: List Boards -> Parser -> List Pins ran ({len(output['pins'])} pins); picture {out}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as failed:
        print(f"langflow browser: FAILED: {failed}", file=sys.stderr)
        sys.exit(1)
