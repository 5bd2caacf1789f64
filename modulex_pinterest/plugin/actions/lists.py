"""The list actions (``handler: list``): one page, or with ``fetch_all`` every page up to ``max_items``.

Method, path, the echoed inputs and the inputs sent as ``query`` parameters
(besides ``page_size`` and ``bookmark``, e.g. a search's ``query``) come from
the action's manifest entry; the items go under its ``list_field``. A whole-list fetch that fails on a later
page returns what it fetched and the bookmark of the page that failed, as a
:class:`~..run.Failed` value.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..errors import ApiError, BadResponse
from ..run import Failed, Inputs, JsonObject, Outcome, Run
from ..spec.model import Action, Request
from ..transport.client import PinterestClient, path_for

MAX_EMPTY_PAGES = 3  # empty pages in a row that end a whole-list fetch: a server paging forever
MAX_FETCH_BYTES = 64 * 1024 * 1024  # response bytes one whole-list fetch reads before it stops (and says where)


def request_path(request: Request, inputs: Inputs) -> str:
    """The request's path filled from the inputs (``section_path`` when a section is named)."""
    template = request.section_path if request.section_path and inputs.get("board_section_id") else request.path
    return path_for(template, {name: inputs[name] for name in _placeholders(template) if name in inputs})


@functools.cache
def _placeholders(template: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\{([a-z_]+)\}", template))


def query_params(request: Request, inputs: Inputs) -> dict[str, Any]:
    """The inputs the manifest sends as query parameters on every page (``request.query``)."""
    return {name: inputs[name] for name in request.query if name in inputs}


def page_of(response: JsonObject, sent_bookmark: str | None) -> tuple[list[JsonObject], str | None]:
    """Items and next bookmark of a paginated response, checked for shape.

    A bookmark equal to the one just sent would loop forever; it is reported
    as the end of the list.
    """
    items = response.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadResponse("'items' is not a list of objects", status=200, sent=True)
    bookmark = response.get("bookmark")
    if bookmark is not None and not isinstance(bookmark, str):
        raise BadResponse("'bookmark' is neither a string nor null", status=200, sent=True)
    if not bookmark or bookmark == sent_bookmark:
        bookmark = None
    return items, bookmark


def list_items(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    """``handler: list``: the output's echoed inputs, the items under ``list_field``, their count and the bookmark."""
    assert action.list_field is not None, "a list action declares its list_field"
    echoed: JsonObject = {name: inputs.get(name) for name in action.output.inputs}
    path = request_path(action.request, inputs)
    if inputs.get("fetch_all"):
        fetched = fetch_all(client, run, action.request, path, inputs)
        if isinstance(fetched, Failed):
            items, resume = fetched.fields["items"], fetched.fields["bookmark"]
            kept = {**echoed, action.list_field: items, "count": len(items), "bookmark": resume}
            return Failed(fetched.error, kept, note=fetched.note)
        items, bookmark = fetched
    else:
        params = query_params(action.request, inputs)
        params.update({name: inputs[name] for name in ("page_size", "bookmark") if name in inputs})
        items, bookmark = page_of(client.send(action.request, path, params, None), inputs.get("bookmark"))
    return {
        "success": True,
        "error": None,
        **echoed,
        action.list_field: items,
        "count": len(items),
        "bookmark": bookmark,
    }


def fetch_all(
    client: PinterestClient, run: Run, request: Request, path: str, inputs: Inputs
) -> tuple[list[JsonObject], str | None] | Failed:
    """Every page up to ``max_items``, bounded against a server that never ends.

    Pages are asked for at ``page_size``, no larger than what is still wanted,
    so a well-behaved server never overshoots the cap. ``max_items`` is a hard
    cap all the same: a page larger than asked is cut, and the bookmark
    returned is the server's next one (there is no bookmark into the middle of
    a page). The fetch also stops, with the bookmark to resume from, once the
    bodies read reach ``MAX_FETCH_BYTES``; and it reports the list as ended on a
    bookmark it already followed or after ``MAX_EMPTY_PAGES`` empty pages in a
    row. The run's deadline bounds the whole walk. When a later page fails, the
    result is a :class:`Failed` with what was fetched and the bookmark of the
    page that failed.
    """
    cap = inputs["max_items"]
    items: list[JsonObject] = []
    bookmark: str | None = inputs.get("bookmark")
    followed: set[str] = set()
    empty_pages = pages = 0
    while len(items) < cap:
        params = query_params(request, inputs)
        params["page_size"] = min(inputs["page_size"], cap - len(items))
        if bookmark:
            params["bookmark"] = bookmark
            followed.add(bookmark)
        try:
            page, bookmark = page_of(client.send(request, path, params, None), bookmark)
        except ApiError as error:
            if not items:
                raise
            return _partial(error, items, params.get("bookmark"))
        if len(page) > cap - len(items):
            return items + page[: cap - len(items)], bookmark
        items += page
        pages += 1
        ended = bookmark is None or bookmark in followed
        resume = None if ended else bookmark  # page_items and bookmark: what a host interrupted here can show
        run.report({"event": "page", "pages": pages, "items": len(items), "page_items": page, "bookmark": resume})
        empty_pages = 0 if page else empty_pages + 1
        if ended or empty_pages >= MAX_EMPTY_PAGES:
            return items, None
        if run.bytes_read >= MAX_FETCH_BYTES:
            return items, bookmark
    return items, bookmark


def _partial(error: ApiError, items: list[JsonObject], resume: str | None) -> Failed:
    count = len(items)
    fetched = f"{count} item" if count == 1 else f"{count} items"
    note = f". Returned the {fetched} fetched before that page; its bookmark resumes there"
    return Failed(error, {"items": items, "bookmark": resume}, note=note)
