"""The Pinterest sandbox, exercised over real loopback HTTP with requests (no mocks).

Each test gets a fresh sandbox (``sb``), so state changes never leak between tests.
"""

from __future__ import annotations

import gzip
import json
import socket
import sys
import threading
import time
from http.client import HTTPConnection  # not `import http`: a fixture is named so
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from modulex_pinterest.sandbox import Exchange, Sandbox, demo_app
from modulex_pinterest.sandbox.encoding import GZIP_MIN_BYTES, accepts_gzip
from modulex_pinterest.sandbox.errors import RATE_LIMITED

IMAGE = {"source_type": "image_url", "url": "https://images.example.com/cake.jpg"}
CALLBACK = "https://app.example.com/cb"
EXPIRED = {"code": 2, "message": "Authentication failed. The access token has expired."}


@pytest.fixture
def sb():
    with Sandbox(seed=0) as box:
        yield box


@pytest.fixture
def http(sb):
    """A keep-alive session authenticated with the sandbox's demo token."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {sb.access_token}"
        yield session


def boards(sb, http) -> list[dict]:
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 200
    return response.json()["items"]


def big_board(sb) -> dict:
    return next(b for b in sb.boards if b["pin_count"] >= 500)


def all_pins(sb, http, path: str, page_size: int = 250, bookmark: str | None = None) -> list[dict]:
    """Follow bookmarks to the end; fail on a repeated bookmark."""
    items, seen = [], set()
    while True:
        params = {"page_size": page_size, **({"bookmark": bookmark} if bookmark else {})}
        response = http.get(f"{sb.base_url}{path}", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= page_size
        items += page["items"]
        bookmark = page["bookmark"]
        if bookmark is None:
            return items
        assert bookmark not in seen
        seen.add(bookmark)


def create_pin(sb, http, **fields) -> requests.Response:
    return http.post(f"{sb.base_url}/pins", json={"media_source": IMAGE, **fields})


def token_request(sb, data, auth=None) -> requests.Response:
    return requests.post(f"{sb.base_url}/oauth/token", data=data, auth=auth or (sb.app_id, sb.app_secret))


def authorize(sb, scopes: str = "boards:read,pins:read", auth=None) -> dict:
    """One code exchange (a new grant): the token response."""
    app_id = auth[0] if auth else sb.app_id
    code = sb.issue_authorization_code(app_id, CALLBACK, scopes)
    response = token_request(
        sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}, auth=auth
    )
    assert response.status_code == 200, response.text
    return response.json()


def rotate(sb, refresh_token: str, auth=None) -> requests.Response:
    return token_request(
        sb, {"grant_type": "refresh_token", "refresh_token": refresh_token, "continuous_refresh": "true"}, auth=auth
    )


def get_boards(sb, token: str) -> requests.Response:
    return requests.get(f"{sb.base_url}/boards", headers={"Authorization": f"Bearer {token}"})


# ----- demo data and objects --------------------------------------------------


def test_demo_boards_shape(sb, http):
    items = boards(sb, http)
    assert [(b["name"], b["pin_count"]) for b in items] == [
        ("Kitchen ideas", 21),
        ("Travel 2026", 14),
        ("Garden & balcony", 9),
        ("Recipe archive", 600),
    ]
    for board in items:
        assert board["id"].isdigit() and board["name"]
        assert board["privacy"] == "PUBLIC"
        assert board["created_at"].endswith("Z")
        assert board["owner"] == {"username": "sandbox_user"}
    first = items[0]
    sections = http.get(f"{sb.base_url}/boards/{first['id']}/sections").json()
    assert len(sections["items"]) == 3 and sections["bookmark"] is None
    assert [sb.pin_count(first["id"], section["id"]) for section in sections["items"]] == [5, 5, 5]
    assert [len(sb.sections(b["id"])) for b in items[1:]] == [0, 0, 0]


def test_pin_shape(sb, http):
    first = boards(sb, http)[0]
    pins = http.get(f"{sb.base_url}/boards/{first['id']}/pins", params={"page_size": 250}).json()
    assert len(pins["items"]) == first["pin_count"]
    for pin in pins["items"]:
        assert pin["id"].isdigit() and pin["board_id"] == first["id"]
        assert pin["media"]["media_type"] == "image"
        assert pin["media"]["images"]["600x"]["url"].startswith("https://")
        assert pin["board_owner"] == {"username": "sandbox_user"}
        assert pin["created_at"].endswith("Z")
        assert None not in (pin.get("creative_type", ""), pin.get("media", ""))
    assert any("board_section_id" in pin for pin in pins["items"])
    created = [pin["created_at"] for pin in pins["items"]]
    assert created == sorted(created, reverse=True)  # newest first


def test_user_account(sb, http):
    account = http.get(f"{sb.base_url}/user_account").json()
    assert account["username"] == "sandbox_user"
    assert account["account_type"] == "BUSINESS"
    assert account["id"].isdigit()
    assert account["board_count"] == len(sb.boards)


def test_same_seed_same_boards_body():
    bodies = []
    for seed in (7, 7, 8):
        with Sandbox(seed=seed) as box:
            bodies.append(
                requests.get(f"{box.base_url}/boards", headers={"Authorization": f"Bearer {box.access_token}"}).content
            )
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


# ----- authentication ---------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer ", "Basic abc", "pina_sandbox_demo_token"])
def test_missing_or_unknown_token_is_401(sb, header):
    headers = {"Authorization": header} if header else {}
    response = requests.get(f"{sb.base_url}/boards", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": 2, "message": "Authentication failed."}


def test_expired_token_is_401(sb):
    sb.add_access_token("short", expires_in=3600)
    headers = {"Authorization": "Bearer short"}
    assert requests.get(f"{sb.base_url}/boards", headers=headers).status_code == 200
    sb.expire_access_token("short")
    response = requests.get(f"{sb.base_url}/boards", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == 2
    assert "expired" in response.json()["message"]


def test_missing_scope_is_401_naming_it(sb):
    sb.add_access_token("readonly", scopes=("boards:read", "pins:read"))
    headers = {"Authorization": "Bearer readonly"}
    board_id = sb.boards[0]["id"]
    assert requests.get(f"{sb.base_url}/boards/{board_id}/pins", headers=headers).status_code == 200
    response = requests.post(f"{sb.base_url}/pins", headers=headers, json={"board_id": board_id, "media_source": IMAGE})
    assert response.status_code == 401
    assert response.json()["code"] == 3
    assert "boards:write" in response.json()["message"]
    assert "pins:write" in response.json()["message"]
    assert sb.pin_count(board_id) == sb.boards[0]["pin_count"]
    response = requests.get(f"{sb.base_url}/user_account", headers=headers)
    assert response.status_code == 401 and "user_accounts:read" in response.json()["message"]


# ----- pagination -------------------------------------------------------------


@pytest.mark.parametrize("size", ["0", "251", "abc", "", "1.5", "-1"])
def test_bad_page_size_is_400(sb, http, size):
    for path in ("/boards", f"/boards/{big_board(sb)['id']}/pins"):
        response = http.get(f"{sb.base_url}{path}", params={"page_size": size})
        assert response.status_code == 400
        assert response.json()["code"] == 1 and "page_size" in response.json()["message"]


@pytest.mark.parametrize("size", [1, 250])
def test_page_size_limits_ok(sb, http, size):
    response = http.get(f"{sb.base_url}/boards/{big_board(sb)['id']}/pins", params={"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["items"]) == size
    assert response.json()["bookmark"]


def test_default_page_size_is_25(sb, http):
    page = http.get(f"{sb.base_url}/boards/{big_board(sb)['id']}/pins").json()
    assert len(page["items"]) == 25


def test_big_board_full_pagination(sb, http):
    board = big_board(sb)
    pins = all_pins(sb, http, f"/boards/{board['id']}/pins")
    ids = [pin["id"] for pin in pins]
    assert len(ids) == len(set(ids)) == board["pin_count"] == sb.pin_count(board["id"]) == 600
    assert ids == sorted(ids, key=int, reverse=True)
    assert sb.get_pin(ids[123]) == pins[123]


@pytest.mark.parametrize("page_size", [1, 4, 250])
def test_pagination_is_stable_while_pins_are_created(sb, http, page_size):
    board = sb.boards[0]
    before = {pin["id"] for pin in all_pins(sb, http, f"/boards/{board['id']}/pins")}
    seen, bookmark, created = [], None, []
    while True:
        params = {"page_size": page_size, **({"bookmark": bookmark} if bookmark else {})}
        page = http.get(f"{sb.base_url}/boards/{board['id']}/pins", params=params).json()
        seen += [pin["id"] for pin in page["items"]]
        created.append(create_pin(sb, http, board_id=board["id"]).json()["id"])
        bookmark = page["bookmark"]
        if bookmark is None:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == before  # nothing skipped, nothing created mid-way shows up
    fresh = [pin["id"] for pin in all_pins(sb, http, f"/boards/{board['id']}/pins")]
    assert fresh[: len(created)] == created[::-1]  # newest first
    assert len(fresh) == len(before) + len(created)


def test_large_board_pagination_with_creates(sb, http):
    board_id = sb.add_large_board(pin_count=1000)
    first = http.get(f"{sb.base_url}/boards/{board_id}/pins", params={"page_size": 100}).json()
    new_id = create_pin(sb, http, board_id=board_id).json()["id"]
    rest = all_pins(sb, http, f"/boards/{board_id}/pins", 100, first["bookmark"])
    ids = [p["id"] for p in first["items"] + rest]
    assert len(ids) == len(set(ids)) == 1000 and new_id not in ids
    assert sb.pin_count(board_id) == 1001


def test_boards_pagination(sb, http):
    names = []
    bookmark = None
    while True:
        params = {"page_size": 1, **({"bookmark": bookmark} if bookmark else {})}
        page = http.get(f"{sb.base_url}/boards", params=params).json()
        names += [b["name"] for b in page["items"]]
        bookmark = page["bookmark"]
        if not bookmark:
            break
    assert names == [b["name"] for b in sb.boards]


@pytest.mark.parametrize("bookmark", ["garbage", "Zm9vfDF8Mg", "%%%", "x" * 300])
def test_garbled_bookmark_is_400(sb, http, bookmark):
    response = http.get(f"{sb.base_url}/boards/{big_board(sb)['id']}/pins", params={"bookmark": bookmark})
    assert response.status_code == 400 and response.json()["code"] == 1


def test_bookmark_of_another_board_is_400(sb, http):
    big = big_board(sb)["id"]
    bookmark = http.get(f"{sb.base_url}/boards/{big}/pins").json()["bookmark"]
    other = sb.boards[1]["id"]
    response = http.get(f"{sb.base_url}/boards/{other}/pins", params={"bookmark": bookmark})
    assert response.status_code == 400


def test_privacy_filter(sb, http):
    assert len(http.get(f"{sb.base_url}/boards", params={"privacy": "PUBLIC"}).json()["items"]) == len(sb.boards)
    assert http.get(f"{sb.base_url}/boards", params={"privacy": "SECRET"}).json()["items"] == []
    assert http.get(f"{sb.base_url}/boards", params={"privacy": "nope"}).status_code == 400


def test_large_board_of_10000_pins(sb, http):
    board_id = sb.add_large_board(pin_count=10_000, name="Huge")
    listed = {b["id"]: b for b in boards(sb, http)}
    assert listed[board_id]["pin_count"] == 10_000 and listed[board_id]["name"] == "Huge"
    ids = [pin["id"] for pin in all_pins(sb, http, f"/boards/{board_id}/pins")]
    assert len(ids) == len(set(ids)) == 10_000  # how fast: benchmarks/run.py measures that


# ----- not found, wrong method, limits ----------------------------------------


def test_unknown_board_and_section_are_404(sb, http):
    first, second = sb.boards[0]["id"], sb.boards[1]["id"]
    section = sb.sections(first)[0]["id"]
    cases = [
        ("/boards/123/pins", 40),
        ("/boards/123/sections", 40),
        (f"/boards/123/sections/{section}/pins", 40),
        (f"/boards/{first}/sections/999/pins", 2031),
        (f"/boards/{second}/sections/{section}/pins", 2031),  # section of another board
    ]
    for path, code in cases:
        response = http.get(f"{sb.base_url}{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == code, path
    assert http.get(f"{sb.base_url}/boards/{first}/sections/{section}/pins").status_code == 200


def test_non_digit_ids_are_400(sb, http):
    assert http.get(f"{sb.base_url}/boards/abc/pins").status_code == 400
    assert http.get(f"{sb.base_url}/boards/%D9%A1%D9%A2/pins").status_code == 400


def test_unknown_route_404_and_wrong_method_405(sb, http):
    response = http.get(f"{sb.base_url}/nothing/here")
    assert response.status_code == 404 and response.json()["code"] == 404
    response = http.delete(f"{sb.base_url}/boards")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"
    assert http.put(f"{sb.base_url}/pins").status_code == 405  # GET /pins lists the account's pins


def test_body_too_large_is_413(sb, http):
    # 1 MB for a body with no media; a new pin's may hold base64 images (tests/test_cli_login_sandbox.py)
    response = http.post(
        f"{sb.base_url}/boards", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


# ----- creating pins ----------------------------------------------------------


def _too_long(field: str, n: int) -> dict:
    return {field: ("https://example.com/" + "a" * n)[:n] if field == "link" else "a" * n}


@pytest.mark.parametrize(
    "body, word",
    [
        ({"media_source": IMAGE}, "board_id"),
        ({"board_id": "BOARD"}, "media_source"),
        ({"board_id": "BOARD", "media_source": "https://example.com/x.jpg"}, "media_source"),
        ({"board_id": "BOARD", "media_source": {"source_type": "image_base64", "data": "aGk="}}, "source_type"),
        ({"board_id": "BOARD", "media_source": {"source_type": "image_url", "url": "javascript:alert(1)"}}, "url"),
        ({"board_id": "BOARD", "media_source": {"source_type": "image_url", "url": "https://"}}, "url"),
        ({"board_id": "BOARD", "media_source": {"source_type": "image_url"}}, "url"),
        ({"board_id": "12\n", "media_source": IMAGE}, "board_id"),
        ({"board_id": 12, "media_source": IMAGE}, "board_id"),
        ({"board_id": "BOARD", "media_source": IMAGE, **_too_long("title", 101)}, "title"),
        ({"board_id": "BOARD", "media_source": IMAGE, **_too_long("description", 801)}, "description"),
        ({"board_id": "BOARD", "media_source": IMAGE, **_too_long("alt_text", 501)}, "alt_text"),
        ({"board_id": "BOARD", "media_source": IMAGE, **_too_long("link", 2049)}, "link"),
        ({"board_id": "BOARD", "media_source": IMAGE, "link": "ftp://example.com/x"}, "link"),
        ({"board_id": "BOARD", "media_source": IMAGE, "title": 5}, "title"),
        ([1, 2], "object"),
    ],
)
def test_create_pin_validation_400(sb, http, body, word):
    board_id = sb.boards[0]["id"]
    if isinstance(body, dict) and body.get("board_id") == "BOARD":
        body = {**body, "board_id": board_id}
    before = sb.pin_count(board_id)
    response = http.post(f"{sb.base_url}/pins", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1 and word in response.json()["message"]
    assert sb.pin_count(board_id) == before


def test_create_pin_body_not_json(sb, http):
    response = http.post(f"{sb.base_url}/pins", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    response = http.post(f"{sb.base_url}/pins", data={"board_id": "1"})  # form, not JSON
    assert response.status_code == 415


def test_create_pin_limits_are_inclusive(sb, http):
    board_id = sb.boards[0]["id"]
    response = create_pin(
        sb,
        http,
        board_id=board_id,
        title="t" * 100,
        description="d" * 800,
        alt_text="a" * 500,
        link="https://example.com/" + "l" * 2028,
    )
    assert response.status_code == 201, response.text


def test_create_pin_unknown_board_or_foreign_section_404(sb, http):
    first, second = sb.boards[0]["id"], sb.boards[1]["id"]
    section = sb.sections(first)[0]["id"]
    response = create_pin(sb, http, board_id="111")
    assert response.status_code == 404 and response.json() == {"code": 40, "message": "Board not found."}
    response = create_pin(sb, http, board_id=second, board_section_id=section)
    assert response.status_code == 404 and response.json()["code"] == 2031
    assert sb.pin_count(second) == sb.boards[1]["pin_count"]


def test_create_pin_201_then_listed(sb, http):
    board = sb.boards[0]
    section = sb.sections(board["id"])[1]["id"]
    section_count = sb.pin_count(board["id"], section)
    response = create_pin(
        sb,
        http,
        board_id=board["id"],
        board_section_id=section,
        title="Lemon tart",
        description="Bright and sharp.",
        link="https://www.example.com/lemon-tart",
        alt_text="A lemon tart",
        dominant_color="#f5d742",
    )
    assert response.status_code == 201
    pin = response.json()
    assert pin["id"].isdigit() and pin["board_id"] == board["id"]
    assert pin["board_section_id"] == section
    assert pin["title"] == "Lemon tart" and pin["link"] == "https://www.example.com/lemon-tart"
    assert pin["media"]["media_type"] == "image" and pin["created_at"].endswith("Z")
    assert sb.get_pin(pin["id"]) == pin
    board_page = http.get(f"{sb.base_url}/boards/{board['id']}/pins").json()
    section_page = http.get(f"{sb.base_url}/boards/{board['id']}/sections/{section}/pins").json()
    assert board_page["items"][0] == pin and section_page["items"][0] == pin
    assert sb.pin_count(board["id"], section) == section_count + 1
    listed = {b["id"]: b for b in boards(sb, http)}
    assert listed[board["id"]]["pin_count"] == board["pin_count"] + 1


def test_concurrent_creates(sb):
    board_id = sb.boards[1]["id"]
    before = sb.pin_count(board_id)
    ids, errors = [], []

    def worker():
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {sb.access_token}"
            for _ in range(10):
                response = create_pin(sb, session, board_id=board_id)
                (ids if response.status_code == 201 else errors).append(response.json().get("id"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(ids)) == 80
    assert sb.pin_count(board_id) == before + 80


# ----- OAuth ------------------------------------------------------------------


def test_authorization_code_is_single_use(sb):
    code = sb.issue_authorization_code(sb.app_id, "https://app.example.com/cb", ("boards:read", "pins:read"))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}
    response = token_request(sb, form)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["response_type"] == "authorization_code"
    assert body["expires_in"] == 2592000 and body["refresh_token_expires_in"] == 5184000
    assert body["scope"] == "boards:read,pins:read"
    assert isinstance(body["refresh_token_expires_at"], int)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(f"{sb.base_url}/boards", headers=headers).status_code == 200
    assert requests.get(f"{sb.base_url}/user_account", headers=headers).status_code == 401  # not granted
    again = token_request(sb, form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_authorization_code_needs_same_redirect_uri(sb):
    code = sb.issue_authorization_code(sb.app_id, "https://app.example.com/cb", "boards:read")
    response = token_request(
        sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://evil.example.com/cb"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("auth", [("1500000", "wrong"), ("999", "sandbox_app_secret"), None])
def test_token_endpoint_bad_client_auth_401(sb, auth):
    code = sb.issue_authorization_code(sb.app_id, "https://app.example.com/cb", "boards:read")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}
    if auth is None:
        response = requests.post(f"{sb.base_url}/oauth/token", data=form)
    else:
        response = token_request(sb, form, auth=auth)
    assert response.status_code == 401
    assert response.json()["code"] == 2 and response.json()["error"] == "invalid_client"


def test_refresh_rotation(sb):
    code = sb.issue_authorization_code(sb.app_id, "https://app.example.com/cb", "boards:read,pins:read")
    first = token_request(
        sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}
    ).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "continuous_refresh": "true"}
    second = token_request(sb, refresh)
    assert second.status_code == 200
    body = second.json()
    assert body["response_type"] == "refresh_token"
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(f"{sb.base_url}/boards", headers=headers).status_code == 200
    third = token_request(sb, {**refresh, "refresh_token": body["refresh_token"]})
    assert third.status_code == 200
    old = token_request(sb, refresh)  # the rotated-out refresh token is dead (and now its grant)
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"


def test_refresh_without_continuous_keeps_token(sb):
    code = sb.issue_authorization_code(sb.app_id, "https://app.example.com/cb", "boards:read")
    first = token_request(
        sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}
    ).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    for _ in range(2):
        body = token_request(sb, form).json()
        assert body["refresh_token"] == first["refresh_token"]
    unknown = token_request(sb, {**form, "refresh_token": "pinr_unknown"})
    assert unknown.status_code == 400 and unknown.json()["code"] == 1


def test_issued_tokens_expire_after_ttl():
    with Sandbox(access_token_ttl=0) as box:
        code = box.issue_authorization_code(box.app_id, "https://app.example.com/cb", "boards:read")
        body = token_request(
            box, {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}
        ).json()
        assert body["expires_in"] == 0
        response = requests.get(f"{box.base_url}/boards", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert response.status_code == 401 and "expired" in response.json()["message"]
        refreshed = rotate(box, body["refresh_token"]).json()  # refreshed tokens get the ttl too
        assert refreshed["expires_in"] == 0
        assert get_boards(box, refreshed["access_token"]).json() == EXPIRED


def test_issued_token_expires_after_a_short_ttl():
    with Sandbox(access_token_ttl=1) as box:
        issued = time.monotonic()
        body = authorize(box)
        assert body["expires_in"] == 1
        assert get_boards(box, body["access_token"]).status_code == 200
        deadline = issued + 5  # the 1 s ttl, and a margin for a machine ten times slower
        while (response := get_boards(box, body["access_token"])).status_code == 200:
            assert time.monotonic() < deadline, "the access token outlived its ttl"
            time.sleep(0.02)
        assert time.monotonic() - issued >= 0.9  # not before its time (wall vs monotonic slack)
        assert response.status_code == 401 and response.json() == EXPIRED
        fresh = rotate(box, body["refresh_token"])  # the refresh token lives on
        assert fresh.status_code == 200
        assert get_boards(box, fresh.json()["access_token"]).status_code == 200


def test_demo_app_credentials_without_a_running_sandbox():
    assert demo_app() == {"app_id": Sandbox.app_id, "app_secret": Sandbox.app_secret}
    assert Sandbox.app_id.isdigit() and Sandbox.app_secret


# ----- refresh-token reuse (RFC 9700) -----------------------------------------


def test_refresh_token_reuse_revokes_the_whole_grant(sb):
    first = authorize(sb)
    second = rotate(sb, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert get_boards(sb, second["access_token"]).status_code == 200
    bystander = authorize(sb)  # another grant of the same app and user
    assert sb.revoked_grants == 0 and not sb.grant_revoked(second["refresh_token"])

    unknown = token_request(
        sb, {"grant_type": "refresh_token", "refresh_token": "pinr_never_issued", "continuous_refresh": "true"}
    )
    reused = rotate(sb, first["refresh_token"])  # the rotated-away token, replayed
    assert reused.status_code == unknown.status_code == 400
    assert reused.json() == unknown.json()  # indistinguishable from an unknown token
    assert reused.json()["error"] == "invalid_grant" and reused.json()["code"] == 1
    assert sb.revoked_grants == 1

    for token in (first["access_token"], first["refresh_token"], second["access_token"], second["refresh_token"]):
        assert sb.grant_revoked(token)
    dead = rotate(sb, second["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    legacy = token_request(sb, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert legacy.status_code == 400 and legacy.json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        response = get_boards(sb, token)
        assert response.status_code == 401
        assert response.json() == {"code": 2, "message": "Authentication failed."}

    assert not sb.grant_revoked(bystander["refresh_token"])
    assert get_boards(sb, bystander["access_token"]).status_code == 200
    assert rotate(sb, bystander["refresh_token"]).status_code == 200
    assert get_boards(sb, sb.access_token).status_code == 200
    assert not sb.grant_revoked(sb.access_token) and not sb.grant_revoked("pinr_never_issued")
    assert rotate(sb, first["refresh_token"]).status_code == 400
    assert sb.revoked_grants == 1  # replaying again revokes nothing new


def test_unknown_refresh_token_revokes_nothing(sb):
    grant = authorize(sb)
    response = rotate(sb, "pinr_" + "x" * 43)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert sb.revoked_grants == 0
    assert rotate(sb, grant["refresh_token"]).status_code == 200


def test_reuse_under_another_apps_credentials_revokes_nothing(sb):
    sb.register_app("1500001", "other_secret")
    first = authorize(sb)
    second = rotate(sb, first["refresh_token"]).json()
    response = rotate(sb, first["refresh_token"], auth=("1500001", "other_secret"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert sb.revoked_grants == 0 and not sb.grant_revoked(second["refresh_token"])
    assert get_boards(sb, second["access_token"]).status_code == 200
    assert rotate(sb, second["refresh_token"]).status_code == 200


# ----- rate limit -------------------------------------------------------------


def test_rate_limit_answers_429_with_pinterest_headers(contract):
    with Sandbox(rate_limit=5) as box, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {box.access_token}"
        started = time.monotonic()
        responses = []
        for _ in range(1000):  # 12, and on a machine too slow to outpace the refill, on to a 429
            responses.append(session.get(f"{box.base_url}/boards"))
            if len(responses) >= 12 and responses[-1].status_code == 429:
                break
        refilled = int((time.monotonic() - started) * 5)  # at most this many tokens came back meanwhile
        exchanges = box.exchanges
    codes = [r.status_code for r in responses]
    assert codes[:5] == [200] * 5
    assert 429 in codes
    assert codes.count(200) <= 5 + refilled + 1  # the bucket refills at 5/s, no faster
    for response in responses[:5]:
        assert response.headers["X-RateLimit-Limit"] == "5"
    for spent, response in enumerate(responses[:5], 1):  # exact (4, 3, 2, 1, 0) unless a token came back
        assert 5 - spent <= int(response.headers["X-RateLimit-Remaining"]) <= min(4, 5 - spent + refilled)
    for response in responses:
        if response.status_code == 429:
            assert response.json() == {"code": 8, "message": RATE_LIMITED}
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["X-RateLimit-Limit"] == "5"
            assert response.headers["X-RateLimit-Remaining"] == "0"
            assert response.headers["Retry-After"] == "1"  # under one token missing at 5/s
            assert 1 <= int(response.headers["X-RateLimit-Reset"]) <= 2
    assert [e.status for e in exchanges] == codes and all(e.fault is None for e in exchanges)
    if contract is not None:
        for exchange in exchanges:
            contract.check_exchange(exchange)


def test_rate_limit_refills(contract):
    with Sandbox(rate_limit=20) as box, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {box.access_token}"
        url = f"{box.base_url}/user_account"
        for _ in range(1000):  # ~21 requests, unless the machine is too slow to outpace the refill
            since = time.monotonic()  # at the 429, answered after this, the bucket held under one token
            if (response := session.get(url)).status_code == 429:
                break
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        deadline = time.monotonic() + 5  # one token takes 50 ms at 20/s: a margin for a machine ten times slower
        while (response := session.get(url)).status_code == 429:
            assert time.monotonic() < deadline, "the bucket did not refill"
            time.sleep(0.01)
        # Continuously, a token at a time, not all at once: "0" unless the poll came late.
        refilled = (time.monotonic() - since) * 20
        assert response.status_code == 200 and int(response.headers["X-RateLimit-Remaining"]) <= refilled
        exchanges = box.exchanges
    if contract is not None:
        for exchange in exchanges:
            contract.check_exchange(exchange)


def test_rate_limit_is_per_app_and_spares_auth_failures_and_the_token_endpoint():
    with Sandbox(rate_limit=2) as box:
        box.register_app("1500001", "other_secret")
        for _ in range(5):
            assert get_boards(box, "pina_unknown").status_code == 401  # no budget spent
        assert get_boards(box, box.access_token).headers["X-RateLimit-Remaining"] == "1"
        missing = requests.get(
            f"{box.base_url}/boards/123/pins", headers={"Authorization": f"Bearer {box.access_token}"}
        )
        assert missing.status_code == 404 and missing.headers["X-RateLimit-Remaining"] == "0"
        assert get_boards(box, box.access_token).status_code == 429
        # The token endpoint and the consent page are not budgeted, and a token the
        # demo app obtains shares the demo token's bucket; another app has its own.
        own = authorize(box)
        assert get_boards(box, own["access_token"]).status_code == 429
        box.add_access_token("pina_added")  # the demo app's by default
        assert get_boards(box, "pina_added").status_code == 429
        consent = requests.get(
            f"{box.root_url}/oauth/",
            allow_redirects=False,
            params={"client_id": box.app_id, "redirect_uri": CALLBACK, "response_type": "code", "scope": "boards:read"},
        )
        assert consent.status_code == 302
        other = authorize(box, auth=("1500001", "other_secret"))
        assert get_boards(box, other["access_token"]).status_code == 200
        box.add_access_token("pina_third_app", app_id="42")
        assert get_boards(box, "pina_third_app").status_code == 200


def test_rate_limit_holds_under_concurrency():
    with Sandbox(rate_limit=10) as box:
        codes: list[int] = []
        lock = threading.Lock()

        def worker():
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {box.access_token}"
                for _ in range(5):
                    status = session.get(f"{box.base_url}/boards", params={"page_size": 1}).status_code
                    with lock:
                        codes.append(status)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    assert len(codes) == 40 and set(codes) <= {200, 429}
    assert 10 <= codes.count(200) <= 10 + int(elapsed * 10) + 1


def test_no_rate_limit_by_default(sb, http):
    codes = {http.get(f"{sb.base_url}/boards", params={"page_size": 1}).status_code for _ in range(30)}
    assert codes == {200}
    assert "X-RateLimit-Limit" not in http.get(f"{sb.base_url}/boards").headers


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_rate_limit_must_be_positive(rate):
    with pytest.raises(ValueError):
        Sandbox(rate_limit=rate)


def test_token_endpoint_wants_a_form(sb):
    response = requests.post(
        f"{sb.base_url}/oauth/token", json={"grant_type": "refresh_token"}, auth=(sb.app_id, sb.app_secret)
    )
    assert response.status_code == 400
    response = token_request(sb, {"grant_type": "password"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_authorize_page_redirects_with_code_and_state(sb):
    redirect = "http://127.0.0.1:8765/callback"
    response = requests.get(
        f"{sb.root_url}/oauth/",
        allow_redirects=False,
        params={
            "client_id": sb.app_id,
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": "boards:read,pins:read",
            "state": "xyz-123",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(redirect + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz-123"]
    token = token_request(sb, {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect})
    assert token.status_code == 200 and token.json()["scope"] == "boards:read,pins:read"


def test_authorize_page_rejects_unknown_client(sb):
    response = requests.get(
        f"{sb.root_url}/oauth/",
        allow_redirects=False,
        params={
            "client_id": "42",
            "redirect_uri": "http://127.0.0.1/cb",
            "response_type": "code",
            "scope": "boards:read",
        },
    )
    assert response.status_code == 400


# ----- faults -----------------------------------------------------------------


def test_fault_429_defaults(sb, http):
    sb.inject_fault("status", status=429)
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1" and "X-RateLimit-Reset" in response.headers
    assert response.json()["code"] == 8
    assert http.get(f"{sb.base_url}/boards").status_code == 200  # count=1


def test_fault_429_with_no_headers(sb, http):
    sb.inject_fault("status", status=429, headers={})
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 429 and "Retry-After" not in response.headers


def test_fault_html_502(sb, http):
    sb.inject_fault("status", status=502, body="<html><body>Bad gateway</body></html>")
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"Bad gateway" in response.content


def test_fault_matching_count_and_order(sb, http):
    sb.inject_fault("status", count=2, status=503, method="POST", path_prefix="/v5/pins")
    sb.inject_fault("status", status=500)
    board_id = sb.boards[0]["id"]
    before = sb.pin_count(board_id)
    assert http.get(f"{sb.base_url}/boards").status_code == 500  # only the second fault matches
    assert http.get(f"{sb.base_url}/boards").status_code == 200
    assert create_pin(sb, http, board_id=board_id).status_code == 503
    assert create_pin(sb, http, board_id=board_id).status_code == 503
    assert sb.pin_count(board_id) == before  # faulted creates change nothing
    assert create_pin(sb, http, board_id=board_id).status_code == 201


def test_faults_from_constructor():
    with Sandbox(faults=[{"kind": "status", "status": 500, "count": 2}]) as box:
        url = f"{box.base_url}/boards"
        headers = {"Authorization": f"Bearer {box.access_token}"}
        codes = [requests.get(url, headers=headers).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    with pytest.raises(ValueError):
        Sandbox(faults=[{"kind": "explode"}])


def test_fault_drop(sb, http):
    board_id = sb.boards[0]["id"]
    sb.inject_fault("drop", method="POST")
    with pytest.raises(requests.ConnectionError):
        create_pin(sb, http, board_id=board_id)
    assert sb.pin_count(board_id) == sb.boards[0]["pin_count"]
    assert sb.exchanges[-1].status is None and sb.exchanges[-1].fault == "drop"
    assert http.get(f"{sb.base_url}/boards").status_code == 200


def test_fault_reset_mid_response(sb, http):
    sb.inject_fault("reset")
    # Headers arrived, the body broke off: requests reports ChunkedEncodingError.
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        http.get(f"{sb.base_url}/boards")
    exchange = sb.exchanges[-1]
    assert exchange.fault == "reset" and exchange.status == 200
    assert int(exchange.response_headers["Content-Length"]) > len(exchange.response_body)


def test_fault_truncated_json(sb, http):
    sb.inject_fault("truncated_json")
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_fault_non_json(sb, http):
    sb.inject_fault("non_json")
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_fault_delay(sb, http):
    sb.inject_fault("delay", delay=0.1)
    started = time.monotonic()
    response = http.get(f"{sb.base_url}/boards")
    assert response.status_code == 200 and time.monotonic() - started >= 0.1
    assert sb.exchanges[-1].fault == "delay"


def test_fault_hang_times_out_and_closes(sb, http):
    sb.inject_fault("hang")
    with pytest.raises(requests.ReadTimeout):
        http.get(f"{sb.base_url}/boards", timeout=0.1)
    sb.inject_fault("hang", delay=0.1)
    with pytest.raises(requests.ConnectionError):
        http.get(f"{sb.base_url}/boards", timeout=5)


def test_hang_does_not_block_stop(wait_until):
    box = Sandbox().start()
    box.inject_fault("hang")
    errors = []

    def call():
        try:
            requests.get(f"{box.base_url}/boards", timeout=10)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    wait_until(lambda: box.exchanges)  # a hang is recorded when it starts
    started = time.monotonic()
    box.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 2
    assert errors and not thread.is_alive()


# ----- request log ------------------------------------------------------------


def test_exchanges_record_requests_and_answers(sb, http):
    board_id = sb.boards[0]["id"]
    http.get(f"{sb.base_url}/boards", params={"page_size": 2})
    create_pin(sb, http, board_id=board_id, title="Logged")
    log = sb.exchanges
    assert [(e.method, e.path, e.status) for e in log] == [("GET", "/v5/boards", 200), ("POST", "/v5/pins", 201)]
    assert log[0].query == "page_size=2" and log[1].query == ""
    assert log[0].headers["Authorization"] == f"Bearer {sb.access_token}"
    assert b'"Logged"' in log[1].body and b'"Logged"' in log[1].response_body
    assert log[1].response_headers["Content-Type"] == "application/json"
    assert log[0].fault is None and isinstance(log[0], Exchange)
    assert sb.access_token not in repr(log[0])
    log.clear()  # a copy
    assert len(sb.exchanges) == 2
    sb.clear_exchanges()
    assert sb.exchanges == []


@pytest.mark.parametrize("accept", ["gzip, deflate", "identity"])
def test_keep_alive_and_content_length(sb, http, accept):
    for _ in range(3):
        response = http.get(f"{sb.base_url}/boards", headers={"Accept-Encoding": accept}, stream=True)
        assert response.raw.version == 11
        wire = response.raw.read(decode_content=False)  # the bytes sent, compressed or not
        assert int(response.headers["Content-Length"]) == len(wire)
    assert sb.exchanges[-1].response_headers["Content-Length"] == str(len(wire))


# ----- compression ------------------------------------------------------------


def fetch_raw(sb, target: str, accept: str | None = "gzip", method: str = "GET"):
    """One request with exactly this Accept-Encoding (None: no such header); the
    answer and its body as sent, undecoded."""
    conn = HTTPConnection(sb.host, sb.port, timeout=10)
    try:
        conn.putrequest(method, "/v5" + target, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {sb.access_token}")
        if accept is not None:
            conn.putheader("Accept-Encoding", accept)
        conn.endheaders()
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_a_gzip_answer_decodes_to_the_identity_answer(sb):
    board = big_board(sb)
    target = f"/boards/{board['id']}/pins?page_size=250"
    plain_response, plain = fetch_raw(sb, target, "identity")
    response, wire = fetch_raw(sb, target, "gzip, deflate, br")
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert int(response.getheader("Content-Length")) == len(wire) < len(plain) // 4
    assert gzip.decompress(wire) == plain and len(json.loads(plain)["items"]) == 250
    assert plain_response.getheader("Content-Encoding") is None
    assert plain_response.getheader("Vary") == "Accept-Encoding"  # the representation depends on it
    # The log holds the decoded body, with the headers as sent.
    identity_exchange, gzip_exchange = sb.exchanges
    assert gzip_exchange.response_body == plain == identity_exchange.response_body
    assert gzip_exchange.response_headers["Content-Encoding"] == "gzip"
    assert gzip_exchange.response_headers["Content-Length"] == str(len(wire))
    assert "Content-Encoding" not in identity_exchange.response_headers


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "identity",
        "gzip;q=0",
        "GZIP; Q=0.000, identity",
        "*;q=0",
        "deflate, br",
        "*, gzip;q=0",
        "gzip;q=2",
        "gzip;level=9",
        "x-gzip;q=0",
    ],
)
def test_plain_json_unless_gzip_is_accepted(sb, accept):
    response, wire = fetch_raw(sb, "/boards", accept)
    assert len(wire) >= GZIP_MIN_BYTES
    assert response.getheader("Content-Encoding") is None
    assert int(response.getheader("Content-Length")) == len(wire)
    assert len(json.loads(wire)["items"]) == 4


@pytest.mark.parametrize(
    "accept",
    [
        "gzip",
        "GZIP",
        "x-gzip",
        "*",
        "deflate;q=1, gzip;q=0.001",
        "identity;q=1, gzip;q=0.5",
        "gzip;q=0, gzip",
        "*;q=0.1, br",
        "br;q=1.0 , gzip",
    ],
)
def test_gzip_when_accepted_with_any_positive_weight(sb, accept):
    response, wire = fetch_raw(sb, "/boards", accept)
    assert response.getheader("Content-Encoding") == "gzip"
    assert len(json.loads(gzip.decompress(wire))["items"]) == 4


def test_accept_encoding_over_several_header_lines():
    assert accepts_gzip(["identity", "gzip"])
    assert not accepts_gzip(["identity", "gzip;q=0"])
    assert accepts_gzip(["gzip;q=0", "*"]) is False  # an explicit gzip entry beats the wildcard


def test_small_bodies_errors_and_faults_go_out_as_they_are(sb):
    for target in ("/user_account", "/boards?page_size=1", "/boards/999/pins"):
        response, wire = fetch_raw(sb, target, "gzip")
        assert response.getheader("Content-Encoding") is None and response.getheader("Vary") is None
        assert 0 < len(wire) < GZIP_MIN_BYTES and json.loads(wire)
    big_error = {"code": 1, "message": "x" * (2 * GZIP_MIN_BYTES)}
    sb.inject_fault("status", status=400, body=big_error)
    sb.inject_fault("truncated_json")
    sb.inject_fault("non_json")
    answers = [fetch_raw(sb, "/boards", "gzip") for _ in range(3)]
    assert [r.getheader("Content-Encoding") for r, _ in answers] == [None, None, None]
    assert json.loads(answers[0][1]) == big_error
    assert answers[1][1].startswith(b'{"items":') and answers[2][1].startswith(b"<!DOCTYPE html>")
    sb.inject_fault("delay", delay=0.01)  # a delayed answer is a normal one: compressed
    assert fetch_raw(sb, "/boards", "gzip")[0].getheader("Content-Encoding") == "gzip"


# ----- lifecycle --------------------------------------------------------------


def _serving_in_accept(thread):
    """The listening socket when ``thread``'s innermost Python frame is ``socket.accept``
    called from the sandbox's ``serve`` loop, else None."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None or frame.f_code.co_name != "accept" or frame.f_back is None:
        return None
    return frame.f_locals.get("self") if frame.f_back.f_code.co_name == "serve" else None


def test_stop_is_immediate(wait_until):
    """serve_forever(poll_interval=0.01) made each stop wait for the next poll (5 ms on
    average). Timing stop() is flaky on a busy machine (issue 21), so check why it is
    immediate instead: the serving thread waits in an accept() with no timeout, which
    no poll ends, and stop() returns with that thread ended (it joins for 5 s at most,
    so an accept left blocked shows as a live thread). Once right after start, once
    while blocked in accept."""
    for wait_for_accept in (False, True):
        before = set(threading.enumerate())
        box = Sandbox().start()
        (thread,) = [t for t in set(threading.enumerate()) - before if t.name == "pinterest-sandbox"]
        if wait_for_accept:
            listener = wait_until(lambda thread=thread: _serving_in_accept(thread))
            assert listener.gettimeout() is None  # blocking: no timeout to poll with
        box.stop()
        assert not thread.is_alive()


def test_stop_leaves_no_threads(wait_until):
    before = set(threading.enumerate())
    box = Sandbox().start()
    idle = socket.create_connection((box.host, box.port))  # a keep-alive client, idle
    idle.sendall(f"GET /v5/boards HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {box.access_token}\r\n\r\n".encode())
    assert idle.recv(12) == b"HTTP/1.1 200"
    box.stop()
    wait_until(lambda: set(threading.enumerate()) <= before)  # the accept loop and the handler ended
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection((box.host, box.port), timeout=1)


def test_a_burst_of_connections_is_not_dropped(sb):
    """The listen backlog holds a burst: none waits out a SYN retransmission (1 s). The
    kernel answers a loopback SYN at once, so each connect's own timeout is the bound."""
    socks = [socket.create_connection((sb.host, sb.port), timeout=0.9) for _ in range(64)]
    for sock in socks:
        sock.close()


def test_sandbox_imports_nothing_from_the_plugin():
    """The stand-in must not share code (or mistakes) with the client it tests."""
    import ast
    import pathlib

    import modulex_pinterest.sandbox as package

    for source in pathlib.Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level in (0, 1), f"{source.name}: reaches outside sandbox/"
                assert node.level == 1 or not (node.module or "").startswith("modulex_pinterest"), source.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("modulex_pinterest") for a in node.names), source.name


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"client_id": "999", "redirect_uri": CALLBACK}, "No app with the id &#x27;999&#x27; is registered"),
        ({"redirect_uri": CALLBACK}, "No app with the id None is registered"),
        ({"client_id": "1500000", "redirect_uri": "javascript:x"}, "redirect_uri is missing or is not an http(s) URL"),
    ],
)
def test_the_consent_page_explains_what_is_wrong_to_the_person_at_the_browser(params, says):
    with Sandbox() as box:
        page = requests.get(f"{box.root_url}/oauth/", allow_redirects=False, params=dict(params, response_type="code"))
    assert page.status_code == 400
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert says in page.text
