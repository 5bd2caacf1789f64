"""The four actions: checked inputs -> one Pinterest call -> output object.

Method and path come from plugin.yaml; the output shapes are the action's
output schema. Each function receives a :class:`~.client.PinterestClient`
and inputs already checked by :mod:`.validation`, and raises
:class:`~.errors.ApiError` for the hook to turn into text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import manifest
from .client import JsonObject, PinterestClient, path_for
from .errors import ApiError, ErrorKind

Inputs = dict[str, Any]
MAX_EMPTY_PAGES = 3  # empty pages in a row that end a whole-list fetch: a server paging forever
MAX_FETCH_BYTES = 64 * 1024 * 1024  # response bytes one whole-list fetch reads before it stops (and says where)
Handler = Callable[[PinterestClient, Inputs], JsonObject]


def _request(action_name: str) -> dict[str, Any]:
    request: dict[str, Any] = manifest.action(action_name)["request"]
    return request


def _bad_response(detail: str, status: int) -> ApiError:
    return ApiError(ErrorKind.BAD_RESPONSE, detail, status=status, sent=True)


def _page_params(inputs: Inputs) -> dict[str, Any]:
    params = {"page_size": inputs["page_size"]}
    if "bookmark" in inputs:
        params["bookmark"] = inputs["bookmark"]
    return params


def _page(response: JsonObject, sent_bookmark: str | None) -> tuple[list[JsonObject], str | None]:
    """Items and next bookmark of a paginated response, checked for shape.

    A bookmark equal to the one just sent would loop forever; it is reported
    as the end of the list.
    """
    items = response.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _bad_response("'items' is not a list of objects", 200)
    bookmark = response.get("bookmark")
    if bookmark is not None and not isinstance(bookmark, str):
        raise _bad_response("'bookmark' is neither a string nor null", 200)
    if not bookmark or bookmark == sent_bookmark:
        bookmark = None
    return items, bookmark


def _path(action_name: str, **path_values: Any) -> str:
    request = _request(action_name)
    template = request["path"]
    if path_values.get("board_section_id"):
        template = request["section_path"]
    else:
        path_values.pop("board_section_id", None)
    return path_for(template, path_values)


def _get_items(
    client: PinterestClient, action_name: str, inputs: Inputs, **path_values: Any
) -> tuple[list[JsonObject], str | None]:
    """One page, or with ``fetch_all`` every page up to ``max_items``."""
    path = _path(action_name, **path_values)
    category = _request(action_name)["rate_limit_category"]
    if not inputs.get("fetch_all"):
        return _page(client.get(path, _page_params(inputs), category=category), inputs.get("bookmark"))
    return _fetch_all(client, path, category, inputs)


def _fetch_all(
    client: PinterestClient, path: str, category: str, inputs: Inputs
) -> tuple[list[JsonObject], str | None]:
    """Every page up to ``max_items``, bounded against a server that never ends.

    Pages are asked for at ``page_size``, no larger than what is still wanted,
    so a well-behaved server never overshoots the cap. ``max_items`` is a hard
    cap all the same: a page larger than asked is cut, and the bookmark
    returned is the server's next one (a server that ignores ``page_size``
    skips what was cut; there is no bookmark into the middle of a page). The fetch also stops, with the bookmark to
    resume from, once the bodies read reach ``MAX_FETCH_BYTES``; and it reports
    the list as ended on a bookmark it already followed or after
    ``MAX_EMPTY_PAGES`` empty pages in a row. The action's deadline bounds the
    whole walk. When a later page fails, the error carries what was fetched
    and the bookmark of the page that failed (``ApiError.partial``).
    """
    cap = inputs["max_items"]
    items: list[JsonObject] = []
    bookmark: str | None = inputs.get("bookmark")
    followed: set[str] = set()
    empty_pages = pages = 0
    while len(items) < cap:
        params = {"page_size": min(inputs["page_size"], cap - len(items))}
        if bookmark:
            params["bookmark"] = bookmark
            followed.add(bookmark)
        try:
            page, bookmark = _page(client.get(path, params, category=category), bookmark)
        except ApiError as error:
            if items:  # keep what was fetched, and where the next run resumes
                error.partial = (items, params.get("bookmark"))
            raise
        if len(page) > cap - len(items):
            return items + page[: cap - len(items)], bookmark
        items += page
        pages += 1
        client.report("page", pages=pages, items=len(items))
        empty_pages = 0 if page else empty_pages + 1
        if bookmark is None or bookmark in followed or empty_pages >= MAX_EMPTY_PAGES:
            return items, None
        if client.bytes_read >= MAX_FETCH_BYTES:
            return items, bookmark
    return items, bookmark


def list_boards(client: PinterestClient, inputs: Inputs) -> JsonObject:
    boards, bookmark = _get_items(client, "list_boards", inputs)
    return {"success": True, "error": None, "boards": boards, "count": len(boards), "bookmark": bookmark}


def get_board_sections(client: PinterestClient, inputs: Inputs) -> JsonObject:
    sections, bookmark = _get_items(client, "get_board_sections", inputs, board_id=inputs["board_id"])
    return {
        "success": True,
        "error": None,
        "board_id": inputs["board_id"],
        "sections": sections,
        "count": len(sections),
        "bookmark": bookmark,
    }


def list_pins(client: PinterestClient, inputs: Inputs) -> JsonObject:
    section_id = inputs.get("board_section_id")
    pins, bookmark = _get_items(client, "list_pins", inputs, board_id=inputs["board_id"], board_section_id=section_id)
    return {
        "success": True,
        "error": None,
        "board_id": inputs["board_id"],
        "board_section_id": section_id,
        "pins": pins,
        "count": len(pins),
        "bookmark": bookmark,
    }


PIN_BODY_FIELDS = ("board_id", "board_section_id", "title", "description", "link", "alt_text")
PIN_OUTPUT_FIELDS = ("id", "title", "description", "link", "board_id", "board_section_id", "created_at")


def create_pin(client: PinterestClient, inputs: Inputs) -> JsonObject:
    return post_pin(client, "create_pin", inputs, {"source_type": "image_url", "url": inputs["media_url"]})


def post_pin(
    client: PinterestClient,
    action: str,
    inputs: Inputs,
    media_source: JsonObject,
    shown: Callable[[JsonObject], JsonObject] = lambda body: body,
) -> JsonObject:
    """``POST /pins`` with ``media_source`` (or, with ``dry_run``, its check): the output of every
    create action. ``shown`` is what a dry run says would be sent (long base64 shortened, say)."""
    body = {name: inputs[name] for name in PIN_BODY_FIELDS if name in inputs}
    body["media_source"] = media_source
    request = _request(action)
    path = path_for(request["path"], {})
    if inputs.get("dry_run"):
        return _dry_run(client, inputs, request["method"], path, shown(body))
    pin = client.post(path, body, category=request["rate_limit_category"])
    if not isinstance(pin.get("id"), str) or not pin["id"]:
        raise _bad_response("the created pin has no 'id'", 201)
    output: JsonObject = {"success": True, "error": None, "pin": pin}
    for name in PIN_OUTPUT_FIELDS:
        value = pin.get(name)
        output[name] = value if isinstance(value, str) else None
    return output


def _dry_run(client: PinterestClient, inputs: Inputs, method: str, path: str, body: JsonObject) -> JsonObject:
    """Check that the board (and section) exist with one read, and say what would be sent.

    Listing one pin of the board or section answers 404 exactly when
    create_pin would fail for an unknown board or section, and needs only
    scopes create_pin has anyway. Nothing is created: ``id`` and
    ``created_at`` stay null, and ``pin`` describes the request.
    """
    client.get(
        _path("list_pins", board_id=inputs["board_id"], board_section_id=inputs.get("board_section_id")),
        {"page_size": 1},
        category=_request("list_pins")["rate_limit_category"],
    )
    output: JsonObject = {
        "success": True,
        "error": None,
        "id": None,
        "created_at": None,
        "pin": {"dry_run": True, "request": {"method": method, "path": path, "body": body}},
    }
    for name in ("title", "description", "link", "board_id", "board_section_id"):
        output[name] = inputs.get(name)
    return output


HANDLERS: dict[str, Handler] = {
    "list_boards": list_boards,
    "get_board_sections": get_board_sections,
    "create_pin": create_pin,
    "list_pins": list_pins,
}
