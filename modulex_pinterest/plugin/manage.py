"""The management actions: create, change and delete boards; create sections;
get, change, delete and save pins.

Each is one Pinterest call whose method, path and rate-limit category come
from the action's ``request`` in plugin.yaml; the output is the object's main
fields and the whole object (``board`` / ``section`` / ``pin``), or for a
delete the ID that was deleted. A 404 raises :class:`~.errors.ApiError` like
any failure, so deleting what is already gone reports "not found", never
success (:func:`.messages.api_error_message` names what was not found).

``HANDLERS`` here is every action's handler: those of :mod:`.media` and these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import manifest
from .actions import PIN_OUTPUT_FIELDS, Handler, Inputs
from .client import JsonObject, PinterestClient, path_for
from .errors import ApiError, ErrorKind, InputError
from .media import HANDLERS as MEDIA_HANDLERS

BOARD_OUTPUT_FIELDS = ("id", "name", "description", "privacy")
BOARD_CHANGES = ("name", "description", "privacy")
PIN_CHANGES = ("title", "description", "link", "alt_text", "board_id", "board_section_id")


def _call(client: PinterestClient, action: str, body: JsonObject | None = None, **path_values: Any) -> JsonObject:
    """The action's one request, as its manifest entry states it."""
    request = manifest.action(action)["request"]
    path = path_for(request["path"], path_values)
    category = request["rate_limit_category"]
    method = request["method"]
    if method == "GET":
        return client.get(path, category=category)
    if method == "DELETE":
        return client.delete(path, category=category)
    if method == "PATCH":
        return client.patch(path, body or {}, category=category)
    return client.post(path, body or {}, category=category)


def _changes(inputs: Inputs, names: tuple[str, ...]) -> JsonObject:
    """The fields to change (empty ones were dropped by validation: they keep what is there)."""
    body = {name: inputs[name] for name in names if name in inputs}
    if not body:
        raise InputError(f"Invalid input: give at least one of {', '.join(names)} to change")
    return body


def _output(obj: JsonObject, what: str, status: int, fields: Iterable[str]) -> JsonObject:
    """``success``, the object's main fields (strings, else null) and the whole object under ``what``."""
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ApiError(ErrorKind.BAD_RESPONSE, f"the {what} in the answer has no 'id'", status=status, sent=True)
    output: JsonObject = {"success": True, "error": None}
    for name in fields:
        value = obj.get(name)
        output[name] = value if isinstance(value, str) else None
    output[what] = obj
    return output


def create_board(client: PinterestClient, inputs: Inputs) -> JsonObject:
    body: JsonObject = {name: inputs[name] for name in BOARD_CHANGES if name in inputs}
    return _output(_call(client, "create_board", body), "board", 201, BOARD_OUTPUT_FIELDS)


def update_board(client: PinterestClient, inputs: Inputs) -> JsonObject:
    body = _changes(inputs, BOARD_CHANGES)
    board = _call(client, "update_board", body, board_id=inputs["board_id"])
    return _output(board, "board", 200, BOARD_OUTPUT_FIELDS)


def delete_board(client: PinterestClient, inputs: Inputs) -> JsonObject:
    _call(client, "delete_board", board_id=inputs["board_id"])
    return {"success": True, "error": None, "board_id": inputs["board_id"]}


def create_board_section(client: PinterestClient, inputs: Inputs) -> JsonObject:
    section = _call(client, "create_board_section", {"name": inputs["name"]}, board_id=inputs["board_id"])
    output = _output(section, "section", 201, ("id", "name"))
    output["board_id"] = inputs["board_id"]
    return output


def get_pin(client: PinterestClient, inputs: Inputs) -> JsonObject:
    return _output(_call(client, "get_pin", pin_id=inputs["pin_id"]), "pin", 200, PIN_OUTPUT_FIELDS)


def update_pin(client: PinterestClient, inputs: Inputs) -> JsonObject:
    pin = _call(client, "update_pin", _changes(inputs, PIN_CHANGES), pin_id=inputs["pin_id"])
    return _output(pin, "pin", 200, PIN_OUTPUT_FIELDS)


def delete_pin(client: PinterestClient, inputs: Inputs) -> JsonObject:
    _call(client, "delete_pin", pin_id=inputs["pin_id"])
    return {"success": True, "error": None, "pin_id": inputs["pin_id"]}


def save_pin(client: PinterestClient, inputs: Inputs) -> JsonObject:
    body: JsonObject = {name: inputs[name] for name in ("board_id", "board_section_id") if name in inputs}
    return _output(_call(client, "save_pin", body, pin_id=inputs["pin_id"]), "pin", 201, PIN_OUTPUT_FIELDS)


HANDLERS: dict[str, Handler] = {
    **MEDIA_HANDLERS,
    "create_board": create_board,
    "update_board": update_board,
    "delete_board": delete_board,
    "create_board_section": create_board_section,
    "get_pin": get_pin,
    "update_pin": update_pin,
    "delete_pin": delete_pin,
    "save_pin": save_pin,
}
