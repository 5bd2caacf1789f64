"""Managing boards, sections and pins: the endpoints beyond listing and creating pins.

Each follows its operation in Pinterest's OpenAPI description, with the scopes
of its ``security`` entry:

* ``POST /boards`` (``boards/create``, boards:read boards:write): BoardCreate in,
  201 and the Board out;
* ``GET /boards/{board_id}`` (``boards/get``, boards:read): 200 and the Board;
* ``PATCH /boards/{board_id}`` (``boards/update``, boards:read boards:write):
  BoardWithUpdatePrivacyUpdate in (privacy PUBLIC or SECRET only), 200 and the Board;
* ``DELETE /boards/{board_id}`` (``boards/delete``, boards:read boards:write): 204,
  with the board's sections and pins;
* ``POST /boards/{board_id}/sections`` (``board_sections/create``, boards:read
  boards:write): BoardSection in (a name of 1 to 180 characters), 201 and the section;
* ``GET /pins/{pin_id}`` (``pins/get``, boards:read pins:read): 200 and the Pin;
* ``PATCH /pins/{pin_id}`` (``pins/update``, boards:read boards:write pins:read
  pins:write): PinUpdate in, 200 and the Pin (``board_id`` / ``board_section_id``
  move it; ``board_section_id: null`` takes it out of its section);
* ``DELETE /pins/{pin_id}`` (``pins/delete``, the same four scopes): 204;
* ``POST /pins/{pin_id}/save`` (``pins/save``, the same four scopes): a board_id
  and/or board_section_id in, 201 and the new Pin saved there.

Errors as in ``api.py``: 400 code 1 for a body the spec refuses, 404 code 40
(board), 50 (pin) or 2031 (section, also one on another board than the one named).
``carousel_slots`` of PinUpdate and the ``ad_account_id`` and ``pin_metrics``
parameters are accepted and ignored.
"""

from __future__ import annotations

from .errors import bad_request, pin_not_found
from .store import Store
from .wire import Request, Response, Route, check_pin_text, is_digits, json_body, json_response

BOARD_PRIVACY = ("PUBLIC", "PROTECTED", "SECRET")  # BoardPrivacy
BOARD_UPDATE_PRIVACY = ("PUBLIC", "SECRET")  # BoardUpdatePrivacy
SECTION_NAME_MAX = 180  # BoardSection.name maxLength
PIN_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write")
BOARD_WRITE_SCOPES = ("boards:read", "boards:write")


def _string(body: dict, name: str, *, nullable: bool = False, required: bool = False) -> None:
    if name not in body:
        if required:
            raise bad_request(f"Invalid request: '{name}' is required.")
        return
    value = body[name]
    if value is None and nullable and not required:
        return
    if not isinstance(value, str):
        raise bad_request(f"Invalid request: '{name}' must be a string.")


def _name(body: dict, *, required: bool, limit: int | None = None) -> None:
    _string(body, "name", required=required)
    if "name" in body and not body["name"].strip():
        raise bad_request("Invalid request: 'name' must not be empty.")
    if limit is not None and "name" in body and len(body["name"]) > limit:
        raise bad_request(f"Invalid request: 'name' is too long ({len(body['name'])} characters, at most {limit}).")


def _privacy(body: dict, allowed: tuple[str, ...]) -> None:
    if "privacy" in body and body["privacy"] not in allowed:
        raise bad_request(f"Invalid request: 'privacy' must be one of {', '.join(allowed)}.")


def _ids(body: dict, names: tuple[str, ...], nullable: tuple[str, ...]) -> None:
    for name in names:
        if name not in body or (body[name] is None and name in nullable):
            continue
        if not is_digits(body[name]):
            raise bad_request(f"Invalid request: '{name}' must be a string of digits.")


def validate_board_create(req: Request) -> dict:
    body = json_body(req, "board")
    _name(body, required=True)
    _string(body, "description", nullable=True)
    _privacy(body, BOARD_PRIVACY)
    if not isinstance(body.get("is_ads_only", False), bool):
        raise bad_request("Invalid request: 'is_ads_only' must be a boolean.")
    return body


def validate_board_update(req: Request) -> dict:
    body = json_body(req, "board")
    _name(body, required=False)
    _string(body, "description", nullable=True)
    _privacy(body, BOARD_UPDATE_PRIVACY)
    return {k: body[k] for k in ("name", "description", "privacy") if k in body}


def validate_pin_update(req: Request) -> dict:
    body = json_body(req, "Pin")
    texts = ("title", "description", "link", "alt_text")
    check_pin_text(body, texts)
    _ids(body, ("board_id", "board_section_id"), nullable=("board_section_id",))
    return {k: body[k] for k in texts + ("board_id", "board_section_id") if k in body}


def validate_pin_save(req: Request) -> tuple[str | None, str | None]:
    body = json_body(req, "save request")
    _ids(body, ("board_id", "board_section_id"), nullable=("board_id", "board_section_id"))
    board_id, section_id = body.get("board_id"), body.get("board_section_id")
    if board_id is None and section_id is None:
        raise bad_request("Invalid request: give 'board_id' or 'board_section_id' to save the Pin to.")
    return board_id, section_id


class Manage:
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [
            ("/v5/boards", "POST", BOARD_WRITE_SCOPES, self.create_board),
            ("/v5/boards/{board_id}", "GET", ("boards:read",), self.get_board),
            ("/v5/boards/{board_id}", "PATCH", BOARD_WRITE_SCOPES, self.update_board),
            ("/v5/boards/{board_id}", "DELETE", BOARD_WRITE_SCOPES, self.delete_board),
            ("/v5/boards/{board_id}/sections", "POST", BOARD_WRITE_SCOPES, self.create_section),
            ("/v5/pins/{pin_id}", "GET", ("boards:read", "pins:read"), self.get_pin),
            ("/v5/pins/{pin_id}", "PATCH", PIN_SCOPES, self.update_pin),
            ("/v5/pins/{pin_id}", "DELETE", PIN_SCOPES, self.delete_pin),
            ("/v5/pins/{pin_id}/save", "POST", PIN_SCOPES, self.save_pin),
        ]

    def create_board(self, req: Request) -> Response:
        body = validate_board_create(req)
        board = self.store.create_board(
            body["name"], body.get("description") or "", body.get("privacy", "PUBLIC"), body.get("is_ads_only", False)
        )
        return json_response(201, board)

    def get_board(self, req: Request) -> Response:
        return json_response(200, self.store.board(req.params["board_id"]))

    def update_board(self, req: Request) -> Response:
        return json_response(200, self.store.update_board(req.params["board_id"], validate_board_update(req)))

    def delete_board(self, req: Request) -> Response:
        self.store.delete_board(req.params["board_id"])
        return Response(204)

    def create_section(self, req: Request) -> Response:
        body = json_body(req, "board section")
        _name(body, required=True, limit=SECTION_NAME_MAX)
        return json_response(201, self.store.create_section(req.params["board_id"], body["name"]))

    def get_pin(self, req: Request) -> Response:
        metrics = req.arg("pin_metrics")
        if metrics is not None and metrics not in ("true", "false"):
            raise bad_request("Parameter 'pin_metrics' must be true or false.")
        pin = self.store.get_pin(req.params["pin_id"])
        if pin is None:
            raise pin_not_found()
        return json_response(200, pin)

    def update_pin(self, req: Request) -> Response:
        return json_response(200, self.store.update_pin(req.params["pin_id"], validate_pin_update(req)))

    def delete_pin(self, req: Request) -> Response:
        self.store.delete_pin(req.params["pin_id"])
        return Response(204)

    def save_pin(self, req: Request) -> Response:
        board_id, section_id = validate_pin_save(req)
        return json_response(201, self.store.save_pin(req.params["pin_id"], board_id, section_id))
