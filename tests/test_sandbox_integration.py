"""The installed plugin, discovered through its entry point, against the
embedded sandbox over loopback. Every request and answer here is also held to
Pinterest's OpenAPI description by the ``sandbox`` fixture."""

import json
import threading

import jsonschema

from conftest import TOKEN


def test_workflow_boards_sections_create_and_list(host, sandbox, run):
    token = sandbox.access_token
    boards = run("list_boards", {}, sandbox.base_url, token=token)
    assert boards["success"] and boards["count"] == len(boards["boards"]) == 4
    board = boards["boards"][0]
    sections = run("get_board_sections", {"board_id": board["id"]}, sandbox.base_url, token=token)
    assert sections["success"] and sections["board_id"] == board["id"] and sections["count"] == 3
    section = sections["sections"][0]
    created = run(
        "create_pin",
        {
            "board_id": board["id"],
            "board_section_id": section["id"],
            "title": "New tart",
            "media_url": "https://images.example.com/tart.jpg",
            "alt_text": "a tart",
        },
        sandbox.base_url,
        token=token,
    )
    assert created["success"], created
    assert created["board_id"] == board["id"] and created["board_section_id"] == section["id"]
    assert created["pin"]["id"] == created["id"] and created["created_at"]
    in_section = run(
        "list_pins",
        {"board_id": board["id"], "board_section_id": section["id"], "page_size": 250},
        sandbox.base_url,
        token=token,
    )
    in_board = run("list_pins", {"board_id": board["id"], "page_size": 250}, sandbox.base_url, token=token)
    assert created["id"] in [p["id"] for p in in_section["pins"]]
    assert created["id"] in [p["id"] for p in in_board["pins"]]
    for action, output in [
        ("list_boards", boards),
        ("get_board_sections", sections),
        ("create_pin", created),
        ("list_pins", in_section),
    ]:
        jsonschema.validate(output, host.action("pinterest", action)["output_schema"])


def _all_pins(run, sandbox, board_id, page_size):
    seen, bookmark, pages = [], None, 0
    while True:
        inputs = {"board_id": board_id, "page_size": page_size}
        if bookmark:
            inputs["bookmark"] = bookmark
        page = run("list_pins", inputs, sandbox.base_url, token=sandbox.access_token)
        assert page["success"], page
        assert page["count"] == len(page["pins"]) <= min(max(page_size, 1), 250)
        seen += [p["id"] for p in page["pins"]]
        pages += 1
        bookmark = page["bookmark"]
        if bookmark is None:
            return seen, pages


def test_bookmarks_walk_a_large_board_once_each_even_with_oversized_page_size(sandbox, run):
    board_id = sandbox.add_large_board(pin_count=600)
    seen, pages = _all_pins(run, sandbox, board_id, page_size=10000)
    assert len(seen) == len(set(seen)) == 600
    assert pages == 3  # 250, 250 and 100


def test_the_plugin_is_answered_with_gzip_list_pages_and_decodes_them(sandbox, run):
    """The sandbox compresses as Pinterest's edge does, so the plugin's decoding is
    exercised by every list page of the suite (and the contract check reads the
    decoded body of each)."""
    board_id = sandbox.add_large_board(pin_count=300)
    page = run("list_pins", {"board_id": board_id, "page_size": 250}, sandbox.base_url, token=sandbox.access_token)
    assert page["success"] and page["count"] == 250
    (exchange,) = sandbox.exchanges
    assert "gzip" in exchange.headers["Accept-Encoding"]
    assert exchange.response_headers["Content-Encoding"] == "gzip"
    assert int(exchange.response_headers["Content-Length"]) < len(exchange.response_body) // 4
    assert [p["id"] for p in page["pins"]] == [p["id"] for p in json.loads(exchange.response_body)["items"]]


def test_page_size_out_of_range_never_reaches_the_sandbox_as_invalid(sandbox, run):
    for size in (0, -1, 251, 99999):
        assert run("list_boards", {"page_size": size}, sandbox.base_url, token=sandbox.access_token)["success"]
    sent = [e.query for e in sandbox.exchanges]
    assert all(("page_size=1" in q or "page_size=250" in q) for q in sent), sent
    assert all(e.status == 200 for e in sandbox.exchanges)


def test_unknown_board_and_section_are_named(sandbox, run):
    out = run("get_board_sections", {"board_id": "999"}, sandbox.base_url, token=sandbox.access_token)
    assert out["success"] is False and out["error"].startswith("Board 999 not found")
    board_id = sandbox.boards[0]["id"]
    out = run(
        "list_pins", {"board_id": board_id, "board_section_id": "999"}, sandbox.base_url, token=sandbox.access_token
    )
    assert out["error"].startswith(f"Board {board_id} or its section 999 not found")


def test_unknown_token_is_an_authentication_failure(sandbox, run):
    out = run("list_boards", {}, sandbox.base_url, token=TOKEN)
    assert out["success"] is False and out["error"].startswith("Authentication failed")
    assert TOKEN not in out["error"]


def test_expired_token_says_so(sandbox, run):
    sandbox.add_access_token(TOKEN)
    sandbox.expire_access_token(TOKEN)
    out = run("list_boards", {}, sandbox.base_url, token=TOKEN)
    assert out["error"].startswith("Authentication failed") and "expired" in out["error"]


def test_missing_scope_is_named(sandbox, run):
    sandbox.add_access_token(TOKEN, scopes=("boards:read", "pins:read"))
    board_id = sandbox.boards[0]["id"]
    out = run(
        "create_pin",
        {"board_id": board_id, "title": "t", "media_url": "https://e.com/a.jpg"},
        sandbox.base_url,
        token=TOKEN,
    )
    assert out["error"].startswith("Authentication failed: the token lacks a required scope")
    assert sandbox.pin_count(board_id) == sandbox.boards[0]["pin_count"]


def test_create_pin_on_unknown_board(sandbox, run):
    out = run(
        "create_pin",
        {"board_id": "12345", "title": "t", "media_url": "https://e.com/a.jpg"},
        sandbox.base_url,
        token=sandbox.access_token,
    )
    assert out["success"] is False and out["error"].startswith("Board 12345 not found")


def test_check_credentials_against_the_sandbox(host, sandbox):
    ok = host.check(
        "pinterest", {"mode": "access_token", "access_token": sandbox.access_token}, {"base_url": sandbox.base_url}
    )
    assert ok["success"] and ok["account"]
    bad = host.check("pinterest", {"mode": "access_token", "access_token": TOKEN}, {"base_url": sandbox.base_url})
    assert bad["success"] is False and bad["error"].startswith("Authentication failed")


def test_one_plugin_instance_serves_many_threads(host, sandbox):
    board_id = sandbox.boards[0]["id"]
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    results = {}

    def worker(n):
        inputs = {"board_id": board_id, "title": f"pin {n}", "media_url": f"https://e.com/{n}.jpg"}
        results[n] = host.run("pinterest", "create_pin", inputs, credentials, {"base_url": sandbox.base_url})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[n]["success"] and results[n]["title"] == f"pin {n}" for n in range(16))
    assert len({r["id"] for r in results.values()}) == 16
