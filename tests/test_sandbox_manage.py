"""The sandbox's board, section and pin management operations, over plain HTTP.

Every exchange of a test using the ``sandbox`` fixture is checked against
Pinterest's OpenAPI description afterwards (conftest.py); tests that send
bodies the spec refuses on purpose are marked ``no_contract`` and check the
answers alone with ``check_answers``.
"""

from __future__ import annotations

import pytest
import requests

PIN_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write")
IMAGE = {"source_type": "image_url", "url": "https://www.example.com/a.jpg"}


@pytest.fixture
def url(sandbox):
    return lambda path: sandbox.base_url + path


def check_answers(contract, sandbox):
    """The answers of every exchange so far match the spec (the requests may not)."""
    if contract is None:
        return
    for exchange in sandbox.exchanges:
        contract.check_exchange_response(exchange)


def new_board(http, url, name="Board", **fields):
    r = http.post(url("/boards"), json={"name": name, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def new_pin(http, url, board_id, section_id=None, title="Pin"):
    body = {"board_id": board_id, "title": title, "media_source": IMAGE}
    if section_id:
        body["board_section_id"] = section_id
    r = http.post(url("/pins"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def new_section(http, url, board_id, name="Section"):
    r = http.post(url(f"/boards/{board_id}/sections"), json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def listing(http, url, path, page_size=250):
    """Every item of a listing, following bookmarks."""
    items, bookmark = [], None
    while True:
        params = {"page_size": page_size, **({"bookmark": bookmark} if bookmark else {})}
        r = http.get(url(path), params=params)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        bookmark = r.json()["bookmark"]
        if not bookmark:
            return items


def ids(items):
    return [item["id"] for item in items]


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


# ----- boards --------------------------------------------------------------


def test_create_board_lists_it_last_with_a_zoned_timestamp(sandbox, http, url):
    board = new_board(http, url, "Summer recipes", description="Salads", privacy="SECRET")
    assert board["name"] == "Summer recipes" and board["description"] == "Salads" and board["privacy"] == "SECRET"
    assert board["id"].isdigit() and board["pin_count"] == 0 and board["created_at"].endswith("Z")
    assert ids(listing(http, url, "/boards"))[-1] == board["id"]
    assert new_board(http, url, "Plain")["privacy"] == "PUBLIC"


def test_ads_only_board_is_named_and_protected_as_the_spec_says(sandbox, http, url):
    board = new_board(http, url, "Ignored", is_ads_only=True)
    assert (board["name"], board["privacy"], board["is_ads_only"]) == ("Ad-only Pins", "PROTECTED", True)


def test_update_board(sandbox, http, url):
    board = new_board(http, url, "Old")
    r = http.patch(url(f"/boards/{board['id']}"), json={"name": "New", "description": None, "privacy": "SECRET"})
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["description"], r.json()["privacy"]) == ("New", "", "SECRET")
    assert http.patch(url(f"/boards/{board['id']}"), json={}).json()["name"] == "New"
    listed = next(b for b in listing(http, url, "/boards") if b["id"] == board["id"])
    assert listed["name"] == "New"


def test_delete_board_removes_its_sections_and_pins(sandbox, http, url):
    board = new_board(http, url)
    section = new_section(http, url, board["id"])
    pins = [new_pin(http, url, board["id"]), new_pin(http, url, board["id"], section["id"])]
    r = http.delete(url(f"/boards/{board['id']}"))
    assert r.status_code == 204 and r.content == b""
    assert board["id"] not in ids(listing(http, url, "/boards"))
    for pin in pins:
        assert_error(http.get(url(f"/pins/{pin['id']}")), 404, 50)
    assert_error(http.get(url(f"/boards/{board['id']}/sections")), 404, 40)
    assert_error(http.get(url(f"/boards/{board['id']}/sections/{section['id']}/pins")), 404, 40)
    assert_error(http.delete(url(f"/boards/{board['id']}")), 404, 40)  # already gone
    assert_error(http.patch(url(f"/boards/{board['id']}"), json={"name": "x"}), 404, 40)


def test_delete_big_board_and_its_generated_pins(sandbox, http, url):
    big = next(b for b in sandbox.boards if b["pin_count"] >= 500)
    first = http.get(url(f"/boards/{big['id']}/pins"), params={"page_size": 1}).json()["items"][0]
    assert http.delete(url(f"/boards/{big['id']}")).status_code == 204
    assert_error(http.get(url(f"/pins/{first['id']}")), 404, 50)


@pytest.mark.no_contract
def test_board_bodies_the_spec_refuses_are_400(contract, sandbox, http, url):
    board = new_board(http, url)
    for body in ({}, {"name": 5}, {"name": "  "}, {"name": "x", "privacy": "HIDDEN"}, {"name": "x", "description": 1}):
        assert_error(http.post(url("/boards"), json=body), 400, 1)
    assert_error(http.post(url("/boards"), json={"name": "x", "is_ads_only": "yes"}), 400, 1)
    for body in ({"privacy": "PROTECTED"}, {"name": None}, {"name": ""}):  # PROTECTED: BoardUpdatePrivacy has none
        assert_error(http.patch(url(f"/boards/{board['id']}"), json=body), 400, 1)
    assert http.post(url("/boards"), data="[]", headers={"Content-Type": "application/json"}).status_code == 400
    assert http.post(url("/boards"), data="name=x").status_code == 415
    assert_error(http.patch(url("/boards/abc"), json={"name": "x"}), 400, 1)
    check_answers(contract, sandbox)


# ----- sections -------------------------------------------------------------


def test_create_section_lists_it_last(sandbox, http, url):
    board = new_board(http, url)
    first, second = new_section(http, url, board["id"], "A"), new_section(http, url, board["id"], "B")
    assert first["name"] == "A" and first["id"].isdigit()
    assert ids(listing(http, url, f"/boards/{board['id']}/sections")) == [first["id"], second["id"]]
    assert_error(http.post(url("/boards/1/sections"), json={"name": "x"}), 404, 40)


@pytest.mark.no_contract
def test_section_bodies_the_spec_refuses_are_400(contract, sandbox, http, url):
    board = new_board(http, url)
    for body in ({}, {"name": ""}, {"name": 3}, {"name": "x" * 181}):
        assert_error(http.post(url(f"/boards/{board['id']}/sections"), json=body), 400, 1)
    assert new_section(http, url, board["id"], "x" * 180)["name"] == "x" * 180
    check_answers(contract, sandbox)


# ----- pins -----------------------------------------------------------------


def test_get_pin_stored_and_generated(sandbox, http, url):
    board = new_board(http, url)
    pin = new_pin(http, url, board["id"], title="Hello")
    r = http.get(url(f"/pins/{pin['id']}"), params={"pin_metrics": "false"})
    assert r.status_code == 200 and r.json() == pin
    big = next(b for b in sandbox.boards if b["pin_count"] >= 500)
    generated = http.get(url(f"/boards/{big['id']}/pins"), params={"page_size": 3}).json()["items"][2]
    assert http.get(url(f"/pins/{generated['id']}")).json() == generated
    assert_error(http.get(url("/pins/1")), 404, 50)


def test_update_pin_text_fields(sandbox, http, url):
    board = new_board(http, url)
    pin = new_pin(http, url, board["id"])
    changes = {"title": "T", "description": "D", "link": "https://example.com/x", "alt_text": "A"}
    r = http.patch(url(f"/pins/{pin['id']}"), json=changes)
    assert r.status_code == 200
    assert {k: r.json()[k] for k in changes} == changes
    assert r.json()["created_at"] == pin["created_at"] and r.json()["id"] == pin["id"]
    assert http.get(url(f"/pins/{pin['id']}")).json() == r.json()
    cleared = http.patch(url(f"/pins/{pin['id']}"), json={"title": None, "link": None}).json()
    assert cleared["title"] is None and cleared["link"] is None and cleared["description"] == "D"
    assert listing(http, url, f"/boards/{board['id']}/pins") == [cleared]


def test_update_pin_moves_it_between_boards_and_sections(sandbox, http, url):
    a, b = new_board(http, url, "A"), new_board(http, url, "B")
    sa, sb_ = new_section(http, url, a["id"]), new_section(http, url, b["id"])
    pin = new_pin(http, url, a["id"], sa["id"])
    older = new_pin(http, url, b["id"])  # created after pin: listed before it on B
    moved = http.patch(url(f"/pins/{pin['id']}"), json={"board_id": b["id"]}).json()
    assert moved["board_id"] == b["id"] and "board_section_id" not in moved  # the section stays on A
    assert ids(listing(http, url, f"/boards/{b['id']}/pins")) == [older["id"], pin["id"]]
    assert listing(http, url, f"/boards/{a['id']}/pins") == []
    assert listing(http, url, f"/boards/{a['id']}/sections/{sa['id']}/pins") == []
    into = http.patch(url(f"/pins/{pin['id']}"), json={"board_section_id": sb_["id"]}).json()
    assert into["board_section_id"] == sb_["id"] and into["board_id"] == b["id"]
    assert ids(listing(http, url, f"/boards/{b['id']}/sections/{sb_['id']}/pins")) == [pin["id"]]
    out = http.patch(url(f"/pins/{pin['id']}"), json={"board_section_id": None}).json()
    assert "board_section_id" not in out
    assert listing(http, url, f"/boards/{b['id']}/sections/{sb_['id']}/pins") == []
    back = http.patch(url(f"/pins/{pin['id']}"), json={"board_id": a["id"], "board_section_id": sa["id"]}).json()
    assert (back["board_id"], back["board_section_id"]) == (a["id"], sa["id"])
    assert [b_["pin_count"] for b_ in listing(http, url, "/boards") if b_["id"] in (a["id"], b["id"])] == [1, 1]


def test_update_pin_errors(sandbox, http, url):
    a, b = new_board(http, url, "A"), new_board(http, url, "B")
    section_b = new_section(http, url, b["id"])
    pin = new_pin(http, url, a["id"])
    assert_error(http.patch(url("/pins/1"), json={"title": "x"}), 404, 50)
    assert_error(http.patch(url(f"/pins/{pin['id']}"), json={"board_id": "1"}), 404, 40)
    assert_error(http.patch(url(f"/pins/{pin['id']}"), json={"board_section_id": "1"}), 404, 2031)
    # A section of another board than the pin's (or the one named) is not found there.
    assert_error(http.patch(url(f"/pins/{pin['id']}"), json={"board_section_id": section_b["id"]}), 404, 2031)
    payload = {"board_id": a["id"], "board_section_id": section_b["id"]}
    assert_error(http.patch(url(f"/pins/{pin['id']}"), json=payload), 404, 2031)
    assert http.get(url(f"/pins/{pin['id']}")).json() == pin  # unchanged


@pytest.mark.no_contract
def test_pin_update_bodies_the_spec_refuses_are_400(contract, sandbox, http, url):
    pin = new_pin(http, url, new_board(http, url)["id"])
    for body in (
        {"title": "x" * 101},
        {"description": "x" * 801},
        {"alt_text": "x" * 501},
        {"title": 1},
        {"link": "ftp://example.com"},
        {"board_id": None},
        {"board_id": "12a"},
        {"board_section_id": 7},
    ):
        assert_error(http.patch(url(f"/pins/{pin['id']}"), json=body), 400, 1)
    check_answers(contract, sandbox)


def test_delete_pin(sandbox, http, url):
    board = new_board(http, url)
    section = new_section(http, url, board["id"])
    keep, gone = new_pin(http, url, board["id"]), new_pin(http, url, board["id"], section["id"])
    r = http.delete(url(f"/pins/{gone['id']}"))
    assert r.status_code == 204 and r.content == b""
    assert ids(listing(http, url, f"/boards/{board['id']}/pins")) == [keep["id"]]
    assert listing(http, url, f"/boards/{board['id']}/sections/{section['id']}/pins") == []
    assert_error(http.get(url(f"/pins/{gone['id']}")), 404, 50)
    assert_error(http.delete(url(f"/pins/{gone['id']}")), 404, 50)  # already gone: not found
    board_now = next(b for b in listing(http, url, "/boards") if b["id"] == board["id"])
    assert board_now["pin_count"] == 1


def test_generated_pins_can_be_updated_moved_and_deleted(sandbox, http, url):
    big = next(b for b in sandbox.boards if b["pin_count"] >= 500)
    path = f"/boards/{big['id']}/pins"
    before = listing(http, url, path)
    other = new_board(http, url)
    edited, moved, deleted = before[10], before[20], before[30]
    assert http.patch(url(f"/pins/{edited['id']}"), json={"title": "Edited"}).json()["title"] == "Edited"
    assert http.patch(url(f"/pins/{moved['id']}"), json={"board_id": other["id"]}).status_code == 200
    assert http.delete(url(f"/pins/{deleted['id']}")).status_code == 204
    after = listing(http, url, path, page_size=7)
    assert ids(after) == [i for i in ids(before) if i not in (moved["id"], deleted["id"])]
    assert next(p for p in after if p["id"] == edited["id"])["title"] == "Edited"
    assert ids(listing(http, url, f"/boards/{other['id']}/pins")) == [moved["id"]]
    assert http.get(url(f"/pins/{moved['id']}")).json()["board_id"] == other["id"]
    assert_error(http.get(url(f"/pins/{deleted['id']}")), 404, 50)
    assert next(b for b in listing(http, url, "/boards") if b["id"] == big["id"])["pin_count"] == len(before) - 2


def test_save_pin_creates_a_new_pin_on_the_board_or_section(sandbox, http, url):
    a, b = new_board(http, url, "A"), new_board(http, url, "B")
    section = new_section(http, url, b["id"])
    pin = new_pin(http, url, a["id"], title="Original")
    r = http.post(url(f"/pins/{pin['id']}/save"), json={"board_id": b["id"]})
    assert r.status_code == 201
    saved = r.json()
    assert saved["id"] != pin["id"] and saved["board_id"] == b["id"] and saved["title"] == "Original"
    assert saved["created_at"].endswith("Z") and saved["media"] == pin["media"]
    into_section = http.post(url(f"/pins/{pin['id']}/save"), json={"board_section_id": section["id"]}).json()
    assert (into_section["board_id"], into_section["board_section_id"]) == (b["id"], section["id"])
    assert ids(listing(http, url, f"/boards/{b['id']}/pins")) == [into_section["id"], saved["id"]]
    assert ids(listing(http, url, f"/boards/{a['id']}/pins")) == [pin["id"]]  # the original stays
    assert http.get(url(f"/pins/{saved['id']}")).json() == saved


def test_save_pin_errors(sandbox, http, url):
    a, b = new_board(http, url, "A"), new_board(http, url, "B")
    section_b = new_section(http, url, b["id"])
    pin = new_pin(http, url, a["id"])
    assert_error(http.post(url("/pins/1/save"), json={"board_id": a["id"]}), 404, 50)
    assert_error(http.post(url(f"/pins/{pin['id']}/save"), json={"board_id": "1"}), 404, 40)
    assert_error(http.post(url(f"/pins/{pin['id']}/save"), json={"board_section_id": "1"}), 404, 2031)
    body = {"board_id": a["id"], "board_section_id": section_b["id"]}
    assert_error(http.post(url(f"/pins/{pin['id']}/save"), json=body), 404, 2031)
    # Neither given: valid for the schema (both are optional), refused by the sandbox.
    assert_error(http.post(url(f"/pins/{pin['id']}/save"), json={}), 400, 1)
    assert_error(http.post(url(f"/pins/{pin['id']}/save"), json={"board_id": None}), 400, 1)


@pytest.mark.no_contract
def test_save_pin_bodies_the_spec_refuses_are_400(contract, sandbox, http, url):
    pin = new_pin(http, url, new_board(http, url)["id"])
    for body in ({"board_id": 5}, {"board_id": "x"}, {"board_section_id": "1 "}):
        assert_error(http.post(url(f"/pins/{pin['id']}/save"), json=body), 400, 1)
    check_answers(contract, sandbox)


# ----- scopes, listings and bookmarks -------------------------------------------


OPERATIONS = [  # method, path, body, the scopes of the operation's security entry
    ("POST", "/boards", {"name": "x"}, ("boards:read", "boards:write")),
    ("PATCH", "/boards/{board}", {"name": "y"}, ("boards:read", "boards:write")),
    ("DELETE", "/boards/{board}", None, ("boards:read", "boards:write")),
    ("POST", "/boards/{board}/sections", {"name": "x"}, ("boards:read", "boards:write")),
    ("GET", "/pins/{pin}", None, ("boards:read", "pins:read")),
    ("PATCH", "/pins/{pin}", {"title": "x"}, PIN_SCOPES),
    ("DELETE", "/pins/{pin}", None, PIN_SCOPES),
    ("POST", "/pins/{pin}/save", {"board_id": "{board}"}, PIN_SCOPES),
]


@pytest.mark.parametrize("method, template, body, scopes", OPERATIONS)
def test_each_operation_needs_the_scopes_of_its_security_entry(sandbox, http, url, method, template, body, scopes):
    board = new_board(http, url)
    pin = new_pin(http, url, board["id"])
    path = url(template.format(board=board["id"], pin=pin["id"]))
    if body is not None:
        body = {k: v.format(board=board["id"]) for k, v in body.items()}
    every = PIN_SCOPES + ("user_accounts:read",)
    for missing in scopes:
        token = f"tok-without-{missing.replace(':', '-')}"
        sandbox.add_access_token(token, [s for s in every if s != missing])
        r = requests.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert_error(r, 401, 3)
        assert missing in r.json()["message"]
    assert_error(requests.request(method, path, json=body, timeout=10), 401, 2)
    sandbox.add_access_token("tok-exact", scopes)
    r = requests.request(method, path, json=body, headers={"Authorization": "Bearer tok-exact"}, timeout=10)
    assert r.status_code in (200, 201, 204), r.text


def test_bookmarks_survive_creating_and_deleting_between_pages(sandbox, http, url):
    board = new_board(http, url)
    pins = [new_pin(http, url, board["id"], title=f"p{i}") for i in range(6)]  # listed p5 .. p0
    first = http.get(url(f"/boards/{board['id']}/pins"), params={"page_size": 2}).json()
    assert ids(first["items"]) == [pins[5]["id"], pins[4]["id"]]
    late = new_pin(http, url, board["id"], title="late")  # newer than the bookmark: not in this traversal
    assert http.delete(url(f"/pins/{pins[3]['id']}")).status_code == 204  # not yet served: simply gone
    assert http.delete(url(f"/pins/{pins[4]['id']}")).status_code == 204  # the bookmark's own pin
    rest = []
    bookmark = first["bookmark"]
    while bookmark:
        page = http.get(url(f"/boards/{board['id']}/pins"), params={"page_size": 2, "bookmark": bookmark}).json()
        rest += ids(page["items"])
        bookmark = page["bookmark"]
    assert rest == [pins[2]["id"], pins[1]["id"], pins[0]["id"]]
    assert ids(listing(http, url, f"/boards/{board['id']}/pins"))[0] == late["id"]

    boards_first = http.get(url("/boards"), params={"page_size": 2}).json()
    created = new_board(http, url, "Created between pages")  # boards are oldest first: it comes later
    assert http.delete(url(f"/boards/{board['id']}")).status_code == 204
    seen, bookmark = ids(boards_first["items"]), boards_first["bookmark"]
    while bookmark:
        page = http.get(url("/boards"), params={"page_size": 2, "bookmark": bookmark}).json()
        seen += ids(page["items"])
        bookmark = page["bookmark"]
    assert seen[-1] == created["id"] and board["id"] not in seen and len(seen) == len(set(seen))


def test_walkthrough_of_the_issue(sandbox, http, url):
    """Issue 15's acceptance path, on the API: create, rename, list; section; pins; save; delete."""
    board = new_board(http, url, "Trip")
    http.patch(url(f"/boards/{board['id']}"), json={"name": "Trip 2026"})
    assert "Trip 2026" in [b["name"] for b in listing(http, url, "/boards")]
    section = new_section(http, url, board["id"], "Food")
    pins = [new_pin(http, url, board["id"], title=f"n{i}") for i in range(3)]
    assert ids(listing(http, url, f"/boards/{board['id']}/pins")) == ids(pins[::-1])
    http.delete(url(f"/pins/{pins[0]['id']}"))
    fresh = new_pin(http, url, board["id"], section["id"])
    assert ids(listing(http, url, f"/boards/{board['id']}/pins")) == [fresh["id"], pins[2]["id"], pins[1]["id"]]
    saved = http.post(url(f"/pins/{pins[1]['id']}/save"), json={"board_section_id": section["id"]}).json()
    assert ids(listing(http, url, f"/boards/{board['id']}/sections/{section['id']}/pins")) == [
        saved["id"],
        fresh["id"],
    ]
    assert http.delete(url(f"/boards/{board['id']}")).status_code == 204
