"""Each action through the installed plugin and the host, against a scripted
loopback server: the exact request sent, the output returned, and every
failure mapped to a clear value."""

import jsonschema
import pytest

import modulex_pinterest
from conftest import TOKEN
from scripted_server import Reply

BOARD = {"id": "549755885175", "name": "Kitchen ideas", "privacy": "PUBLIC"}
SECTION = {"id": "5027629787972154693", "name": "Tarts"}
PIN = {
    "id": "813744226420795884",
    "title": "Lemon tart",
    "description": "Tangy",
    "link": "https://example.com/t",
    "board_id": "549755885175",
    "board_section_id": "5027629787972154693",
    "created_at": "2026-11-01T10:00:00Z",
    "alt_text": "tart",
    "media": {"media_type": "image"},
}
ACTIONS = ["list_boards", "get_board_sections", "create_pin", "list_pins"]
VALID_INPUTS = {
    "list_boards": {},
    "get_board_sections": {"board_id": "549755885175"},
    "create_pin": {"board_id": "549755885175", "title": "Lemon tart", "media_url": "https://i.example.com/t.jpg"},
    "list_pins": {"board_id": "549755885175"},
}


def assert_valid_output(host, action, output):
    schema = host.action("pinterest", action)["output_schema"]
    jsonschema.validators.validator_for(schema)(schema).validate(output)  # the schema is checked by test_packaging
    assert TOKEN not in repr(output)


def test_list_boards_request_and_output(host, server, run):
    server.script(Reply(body={"items": [BOARD], "bookmark": "bm-2"}))
    out = run("list_boards", {"page_size": 10, "bookmark": "bm-1"}, server.base_url)
    assert out == {"success": True, "error": None, "boards": [BOARD], "count": 1, "bookmark": "bm-2"}
    (req,) = server.requests
    assert (req.method, req.path, req.params) == ("GET", "/v5/boards", {"page_size": "10", "bookmark": "bm-1"})
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.headers["User-Agent"].startswith(f"modulex-pinterest/{modulex_pinterest.__version__}")
    assert req.body == b""
    assert_valid_output(host, "list_boards", out)


def test_list_boards_defaults_page_size_and_omits_empty_bookmark(server, run):
    run("list_boards", {"bookmark": ""}, server.base_url)
    assert server.requests[0].params == {"page_size": "25"}


def test_last_page_gives_null_bookmark(server, run):
    server.script(Reply(body={"items": [BOARD], "bookmark": None}))
    assert run("list_boards", {}, server.base_url)["bookmark"] is None


def test_repeated_bookmark_is_reported_as_the_end(server, run):
    server.script(Reply(body={"items": [], "bookmark": "same"}))
    assert run("list_boards", {"bookmark": "same"}, server.base_url)["bookmark"] is None


def test_get_board_sections_request_and_output(host, server, run):
    server.script(Reply(body={"items": [SECTION], "bookmark": None}))
    out = run("get_board_sections", {"board_id": "549755885175", "page_size": 5}, server.base_url)
    assert out == {
        "success": True,
        "error": None,
        "board_id": "549755885175",
        "sections": [SECTION],
        "count": 1,
        "bookmark": None,
    }
    (req,) = server.requests
    assert (req.method, req.path, req.params) == ("GET", "/v5/boards/549755885175/sections", {"page_size": "5"})
    assert_valid_output(host, "get_board_sections", out)


def test_list_pins_of_a_board_and_of_a_section(host, server, run):
    server.script(Reply(body={"items": [PIN], "bookmark": "n"}), Reply(body={"items": [PIN], "bookmark": None}))
    board = run("list_pins", {"board_id": "549755885175"}, server.base_url)
    section = run(
        "list_pins",
        {"board_id": "549755885175", "board_section_id": "5027629787972154693", "bookmark": "n", "page_size": 250},
        server.base_url,
    )
    assert board == {
        "success": True,
        "error": None,
        "board_id": "549755885175",
        "board_section_id": None,
        "pins": [PIN],
        "count": 1,
        "bookmark": "n",
    }
    assert section["board_section_id"] == "5027629787972154693" and section["bookmark"] is None
    first, second = server.requests
    assert (first.path, first.params) == ("/v5/boards/549755885175/pins", {"page_size": "25"})
    assert (second.path, second.params) == (
        "/v5/boards/549755885175/sections/5027629787972154693/pins",
        {"page_size": "250", "bookmark": "n"},
    )
    assert_valid_output(host, "list_pins", board)
    assert_valid_output(host, "list_pins", section)


def test_create_pin_request_and_output(host, server, run):
    server.script(Reply(status=201, body=PIN))
    inputs = {
        "board_id": "549755885175",
        "title": "Lemon tart",
        "media_url": "https://i.example.com/t.jpg",
        "description": "Tangy",
        "link": "https://example.com/t",
        "alt_text": "tart",
        "board_section_id": "5027629787972154693",
    }
    out = run("create_pin", inputs, server.base_url)
    (req,) = server.requests
    assert (req.method, req.path, req.query) == ("POST", "/v5/pins", "")
    assert req.headers["Content-Type"] == "application/json"
    assert req.json == {
        "board_id": "549755885175",
        "board_section_id": "5027629787972154693",
        "title": "Lemon tart",
        "description": "Tangy",
        "link": "https://example.com/t",
        "alt_text": "tart",
        "media_source": {"source_type": "image_url", "url": "https://i.example.com/t.jpg"},
    }
    assert out == {
        "success": True,
        "error": None,
        "id": PIN["id"],
        "title": "Lemon tart",
        "description": "Tangy",
        "link": "https://example.com/t",
        "board_id": PIN["board_id"],
        "board_section_id": PIN["board_section_id"],
        "created_at": PIN["created_at"],
        "pin": PIN,
    }
    assert_valid_output(host, "create_pin", out)


def test_create_pin_leaves_unset_optional_fields_out_and_accepts_200(server, run):
    server.script(Reply(status=200, body={"id": "1"}))
    out = run("create_pin", dict(VALID_INPUTS["create_pin"], link="", description=""), server.base_url)
    assert out["success"] and out["id"] == "1" and out["title"] is None
    assert set(server.requests[0].json) == {"board_id", "title", "media_source"}


@pytest.mark.parametrize("given, sent", [(0, 1), (-5, 1), (1, 1), (250, 250), (251, 250), (10000, 250), (25.0, 25)])
def test_page_size_is_clamped(server, run, given, sent):
    out = run("list_pins", {"board_id": "1", "page_size": given}, server.base_url)
    assert out["success"]
    assert server.requests[0].params["page_size"] == str(sent)


INVALID = [
    ("list_boards", {"page_size": "25"}, "'page_size' must be of type integer"),
    ("list_boards", {"page_size": 2.5}, "'page_size' must be of type integer"),
    ("list_boards", {"page_size": True}, "'page_size' must be of type integer"),
    ("list_boards", {"bookmark": 5}, "'bookmark' must be of type string"),
    ("list_boards", {"bookmark": "x" * 3000}, "'bookmark' must be at most 2048 characters"),
    ("list_boards", {"pagesize": 5}, "unknown field(s): 'pagesize'"),
    ("get_board_sections", {}, "'board_id' is required"),
    ("get_board_sections", {"board_id": ""}, "'board_id'"),
    ("get_board_sections", {"board_id": "abc"}, "'board_id' must be a Pinterest ID made of digits only"),
    ("get_board_sections", {"board_id": "12\n"}, "'board_id' must be a Pinterest ID made of digits only"),
    ("get_board_sections", {"board_id": "١٢٣"}, "'board_id' must be a Pinterest ID made of digits only"),
    ("get_board_sections", {"board_id": 123}, "'board_id' must be of type string"),
    ("list_pins", {"board_id": "1", "board_section_id": "x1"}, "'board_section_id' must be a Pinterest ID"),
    ("list_pins", {"board_id": "1", "board_section_id": "1\n"}, "'board_section_id' must be a Pinterest ID"),
    ("create_pin", {"board_id": "1", "media_url": "https://a.b/c.jpg"}, "'title' is required"),
    ("create_pin", {"board_id": "1", "title": "t"}, "'media_url' is required"),
    ("create_pin", {"title": "t", "media_url": "https://a.b/c.jpg"}, "'board_id' is required"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], title=""), "'title' must not be empty"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], title="t" * 101), "'title' must be at most 100 characters"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], description="d" * 801), "'description' must be at most 800"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], alt_text="a" * 501), "'alt_text' must be at most 500"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], link="https://e.com/" + "l" * 2040), "'link' must be at most 2048"),
    (
        "create_pin",
        dict(VALID_INPUTS["create_pin"], media_url="javascript:alert(1)"),
        "'media_url' must be an http(s) URL",
    ),
    (
        "create_pin",
        dict(VALID_INPUTS["create_pin"], media_url="file:///etc/passwd"),
        "'media_url' must be an http(s) URL",
    ),
    (
        "create_pin",
        dict(VALID_INPUTS["create_pin"], media_url="data:image/png;base64,AAAA"),
        "'media_url' must be an http(s) URL",
    ),
    ("create_pin", dict(VALID_INPUTS["create_pin"], media_url="https://"), "'media_url' must be an http(s) URL"),
    (
        "create_pin",
        dict(VALID_INPUTS["create_pin"], media_url="https://a.b/c d.jpg"),
        "'media_url' must be an http(s) URL",
    ),
    ("create_pin", dict(VALID_INPUTS["create_pin"], link="ftp://a.b/c"), "'link' must be an http(s) URL"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], title=None), "'title' must be of type string"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], title="  \t "), "'title' must be one line of text, not blank"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], title="a\x00b"), "'title' must be one line of text, not blank"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], title="two\nlines"), "'title' must be one line of text"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], media_url="https://u:p@e.com/a.jpg"), "(it carries a user name"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], media_url="javascript:alert(1)"), "(its scheme is 'javascript'"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], media_url="//e.com/a.jpg"), "(it has no scheme)"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], media_url="https://"), "(it has no host)"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], link="https://e.com/a b"), "(it contains whitespace or a control"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], link="https://e.com/ "), "(it has whitespace around it)"),
    ("list_pins", {"board_id": "1", "fetch_all": True, "max_items": 0}, "'max_items' must be at least 1, got 0"),
    ("list_pins", {"board_id": "1", "max_items": 100001}, "'max_items' must be at most 100000, got 100001"),
    ("create_pin", dict(VALID_INPUTS["create_pin"], extra=1), "unknown field(s): 'extra'"),
]


@pytest.mark.parametrize("action, inputs, message", INVALID, ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(INVALID)])
def test_invalid_inputs_are_rejected_naming_field_and_rule_and_send_nothing(host, server, run, action, inputs, message):
    out = run(action, inputs, server.base_url)
    assert out["success"] is False
    assert out["error"].startswith("Invalid input: ") and message in out["error"]
    assert server.requests == []
    assert_valid_output(host, action, out)


@pytest.mark.parametrize("inputs", [None, [], "board", 5])
def test_inputs_that_are_not_an_object(host, server, run, inputs):
    out = run("list_boards", inputs, server.base_url)
    assert out["success"] is False and out["error"].startswith("Invalid input: inputs must be a JSON object")
    assert server.requests == []


@pytest.mark.parametrize("board_id", ["../user_account", "1/../../x", "%2e%2e", "..", "1?x=1", "1#x", "1%2F2", " 1"])
@pytest.mark.parametrize("action", ["get_board_sections", "list_pins"])
def test_path_injection_never_reaches_another_path(server, run, action, board_id):
    out = run(action, {"board_id": board_id}, server.base_url)
    assert out["success"] is False and "'board_id'" in out["error"]
    out = run("list_pins", {"board_id": "1", "board_section_id": board_id}, server.base_url)
    assert out["success"] is False and "'board_section_id'" in out["error"]
    assert server.requests == []


@pytest.mark.parametrize(
    "credentials, message",
    [
        ({}, "Missing credentials"),
        (None, "Missing credentials"),
        ({"mode": "access_token"}, "'access_token' is required"),
        ({"mode": "access_token", "access_token": "   "}, "'access_token' is required"),
        ({"mode": "access_token", "access_token": "pina_a\nb"}, "contains spaces, control"),
        ({"mode": "access_token", "access_token": "pina_ab\u00e9"}, "contains spaces, control"),
        ({"mode": "carrier_pigeon", "access_token": "x"}, "Unknown credential mode"),
        ({"mode": "oauth2", "app_id": "1", "app_secret": "s"}, "OAuth 2.0 needs app_id, app_secret and refresh_token"),
        (
            {"mode": "oauth2", "app_id": "1", "refresh_token": "r"},
            "OAuth 2.0 needs app_id, app_secret and refresh_token",
        ),
    ],
)
def test_missing_or_unusable_credentials_send_nothing(host, server, credentials, message):
    out = host.run("pinterest", "list_boards", {}, credentials, {"base_url": server.base_url})
    assert out["success"] is False and message in out["error"]
    assert server.requests == []


def test_token_with_a_trailing_newline_is_trimmed(server, run):
    assert run("list_boards", {}, server.base_url, token=TOKEN + "\n")["success"]
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_netrc_does_not_replace_the_bearer_token(server, run, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run("list_boards", {}, server.base_url)["success"]
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "base_url, message",
    [
        ("http://api.pinterest.com/v5", "must use https unless its host is loopback"),
        ("ftp://127.0.0.1/v5", "must be an http(s) URL"),
        ("https://user:pw@api.pinterest.com/v5", "must not carry credentials"),
    ],
)
def test_unsafe_base_urls_are_refused(run, base_url, message):
    out = run("list_boards", {}, base_url)
    assert out["success"] is False and message in out["error"]


ERRORS = [
    # status, body, headers, action, expected fragments
    (
        401,
        {"code": 2, "message": "Authentication failed."},
        {},
        "list_boards",
        ["Authentication failed", "expired or been revoked", "HTTP 401", "Pinterest code 2", "A new access token"],
    ),
    (
        401,
        {"code": 2, "message": "Access token expired."},
        {},
        "list_boards",
        ["Authentication failed: the access token has expired"],
    ),
    (
        401,
        {"code": 3, "message": "Missing required scope: pins:write"},
        {},
        "create_pin",
        ["Authentication failed: the token lacks a required scope", "pins:write"],
    ),
    (
        403,
        {"code": 29, "message": "You are not permitted to access that resource."},
        {},
        "create_pin",
        ["Permission denied", "trial access", "https://api-sandbox.pinterest.com/v5", "Pinterest code 29"],
    ),
    (403, {"code": 403, "message": "Not your board."}, {}, "list_pins", ["Permission denied", "HTTP 403"]),
    (
        404,
        {"code": 40, "message": "Board not found."},
        {},
        "get_board_sections",
        ["Board 549755885175 not found", "HTTP 404", "Pinterest code 40"],
    ),
    (
        404,
        {"code": 2031, "message": "Section not found."},
        {},
        "list_pins_section",
        ["Board 549755885175 or its section 77 not found", "HTTP 404"],
    ),
    (
        400,
        {"code": 1, "message": "Invalid image url."},
        {},
        "create_pin",
        ["Pinterest rejected the pin", "Invalid image url.", "media_url", "board_id", "HTTP 400"],
    ),
    (
        400,
        {"code": 1, "message": "Invalid bookmark."},
        {},
        "list_boards",
        ["Pinterest rejected the request", "Invalid bookmark."],
    ),
    (
        429,
        {"code": 8, "message": "Rate limit exceeded."},
        {"Retry-After": "7200"},
        "list_boards",
        ["Rate limited by Pinterest", "retry after 2.0 hours", "HTTP 429", "Pinterest code 8"],
    ),
    (500, "<html><body>Internal error</body></html>", {}, "list_boards", ["Pinterest server error", "HTTP 500"]),
    (
        503,
        {"code": 503, "message": "Unavailable"},
        {},
        "create_pin",
        ["Pinterest server error", "HTTP 503", "may or may not have been created", "check the board"],
    ),
    (418, {"message": "teapot"}, {}, "list_boards", ["Unexpected response from Pinterest", "HTTP 418", "teapot"]),
    (200, "<html>not json</html>", {}, "list_boards", ["unusable response", "not JSON", "text/html"]),
    (200, "", {}, "list_boards", ["unusable response", "empty"]),
    (200, [1, 2], {}, "list_boards", ["unusable response", "expected a JSON object"]),
    (200, {"items": "nope"}, {}, "list_pins", ["unusable response", "'items' is not a list of objects"]),
    (200, {"items": [], "bookmark": 7}, {}, "list_pins", ["unusable response", "'bookmark'"]),
    (201, {"title": "no id"}, {}, "create_pin", ["unusable response", "no 'id'"]),
]


@pytest.mark.parametrize(
    "status, body, headers, action, fragments", ERRORS, ids=[f"{e[0]}-{e[3]}-{i}" for i, e in enumerate(ERRORS)]
)
def test_failures_are_mapped_to_clear_values(host, server, run, status, body, headers, action, fragments):
    inputs = {
        "list_pins_section": {"board_id": "549755885175", "board_section_id": "77"},
        "get_board_sections": {"board_id": "549755885175"},
    }.get(action) or VALID_INPUTS[action]
    action = "list_pins" if action == "list_pins_section" else action
    server.default = Reply(status=status, body=body, headers=headers)
    out = run(action, inputs, server.base_url, max_retries=0)
    assert out["success"] is False, out
    for fragment in fragments:
        assert fragment in out["error"], (fragment, out["error"])
    assert len(out["error"]) <= 600
    assert_valid_output(host, action, out)


def test_pinterest_message_echoing_the_token_is_redacted(server, run):
    server.default = Reply(status=401, body={"code": 2, "message": f"Token {TOKEN} is invalid"})
    out = run("list_boards", {}, server.base_url)
    assert "Authentication failed" in out["error"] and TOKEN not in out["error"]


def test_unknown_action_is_a_value_not_an_exception(host):
    out = host.pm.hook.modulex_execute_action(
        plugin="pinterest", action="delete_everything", inputs={}, credentials={}, settings={}, host=None
    )
    assert out["success"] is False and "Unknown action" in out["error"]


def test_other_plugins_calls_are_left_alone(host):
    hook = host.pm.hook
    assert (
        hook.modulex_execute_action(
            plugin="slack", action="list_boards", inputs={}, credentials={}, settings={}, host=None
        )
        is None
    )
    assert hook.modulex_check_credentials(plugin="slack", credentials={}, settings={}, host=None) is None
    assert hook.modulex_refresh_credentials(plugin="slack", credentials={}, settings={}, host=None) is None


def test_check_credentials_names_the_account(host, server):
    server.script(Reply(body={"username": "maker", "account_type": "BUSINESS"}))
    result = host.check("pinterest", {"mode": "access_token", "access_token": TOKEN}, {"base_url": server.base_url})
    assert result == {"success": True, "error": None, "account": "maker"}
    assert server.requests[0].path == "/v5/user_account"


def test_check_credentials_failure(host, server):
    server.default = Reply(status=401, body={"code": 2, "message": "Authentication failed."})
    result = host.check("pinterest", {"mode": "access_token", "access_token": TOKEN}, {"base_url": server.base_url})
    assert result["success"] is False and result["error"].startswith("Authentication failed")
