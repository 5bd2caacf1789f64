"""Creating a pin: ``POST /pins`` with a ``media_source``, or with ``dry_run`` its check.

Every create action ends here (create_pin, and the media actions with the
sources they build). The create is resent only when Pinterest certainly did
not act on it (the POST row of ``request_semantics``); a failure after it may
have arrived says the pin may exist (:mod:`..messages`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import BadResponse
from ..run import Inputs, JsonObject, Outcome, Run
from ..spec import manifest
from ..spec.model import Action
from ..transport.client import PinterestClient
from .lists import request_path

PIN_BODY_FIELDS = ("board_id", "board_section_id", "title", "description", "link", "alt_text")
PIN_OUTPUT_FIELDS = ("id", "title", "description", "link", "board_id", "board_section_id", "created_at")
DRY_RUN_CHECK = "list_pins"  # the list whose one-pin page answers 404 exactly when the create would


def create_pin(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    return post_pin(action, inputs, client, {"source_type": "image_url", "url": inputs["media_url"]})


def post_pin(
    action: Action,
    inputs: Inputs,
    client: PinterestClient,
    media_source: JsonObject,
    shown: Callable[[JsonObject], JsonObject] = lambda body: body,
) -> JsonObject:
    """``POST /pins`` with ``media_source`` (or, with ``dry_run``, its check): the output of every
    create action. ``shown`` is what a dry run says would be sent (long base64 shortened, say)."""
    body = {name: inputs[name] for name in PIN_BODY_FIELDS if name in inputs}
    body["media_source"] = media_source
    path = request_path(action.request, {})
    if inputs.get("dry_run"):
        return _dry_run(client, inputs, action.request.method, path, shown(body))
    pin = client.send(action.request, path, None, body)
    if not isinstance(pin.get("id"), str) or not pin["id"]:
        raise BadResponse("the created pin has no 'id'", status=201, sent=True)
    output: JsonObject = {"success": True, "error": None, "pin": pin}
    for name in PIN_OUTPUT_FIELDS:
        value = pin.get(name)
        output[name] = value if isinstance(value, str) else None
    return output


def _dry_run(client: PinterestClient, inputs: Inputs, method: str, path: str, body: JsonObject) -> JsonObject:
    """Check that the board (and section) exist with one read, and say what would be sent.

    Listing one pin of the board or section answers 404 exactly when
    the create would fail for an unknown board or section, and needs only
    scopes a create has anyway. Nothing is created: ``id`` and
    ``created_at`` stay null, and ``pin`` describes the request.
    """
    check = manifest.spec().actions[DRY_RUN_CHECK].request
    client.send(check, request_path(check, inputs), {"page_size": 1}, None)
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
