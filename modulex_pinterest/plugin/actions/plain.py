"""Plain actions: one request, declared in plugin.yaml, run by one generic path.

An action without a ``handler`` is plain. Its ``request`` names the method and
path (placeholders filled from the inputs), the inputs sent as ``query``
parameters or as the JSON ``body`` (``body_required``: at least one of them);
its ``output`` says what the answer becomes: the answer whole under
``object``, its ``fields`` copied (strings, else null), and ``inputs`` echoed.

A request whose semantics say ``gone_is_done`` (a DELETE) ends in success when
Pinterest answers 404, with ``already_gone: true``: deleting what is no longer
there is done, so an engine's retry after a lost answer never fails for good.
"""

from __future__ import annotations

from ..errors import BadResponse, InputError, StatusError
from ..run import Inputs, JsonObject, Outcome, Run
from ..spec.model import Action
from ..transport.client import PinterestClient
from .lists import request_path


def run_plain(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    request = action.request
    body = {name: inputs[name] for name in request.body if name in inputs} if request.body else None
    if request.body_required and not body:
        raise InputError(f"Invalid input: give at least one of {', '.join(request.body)} to change")
    params = {name: inputs[name] for name in request.query if name in inputs} or None
    output: JsonObject = {"success": True, "error": None}
    output.update({name: inputs.get(name) for name in action.output.inputs})
    try:
        answer = client.send(request, request_path(request, inputs), params, body)
    except StatusError as error:
        if error.status == 404 and request.semantics.gone_is_done:
            return dict(output, already_gone=True)
        raise
    if action.output.object is None:
        return dict(output, already_gone=False) if request.semantics.gone_is_done else output
    if not isinstance(answer.get("id"), str) or not answer["id"]:
        status = 201 if request.method == "POST" else 200
        raise BadResponse(f"the {action.output.object} in the answer has no 'id'", status=status, sent=True)
    for name in action.output.fields:
        value = answer.get(name)
        output[name] = value if isinstance(value, str) else None
    output[action.output.object] = answer
    return output
