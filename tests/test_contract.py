"""Contract tests: requests and responses against Pinterest's own OpenAPI description.

The checker (``openapi_contract``) is first proved able to fail on hand-made
samples, then run over every exchange recorded by the sandbox for each
operation the plugin uses, successes and errors alike. Everything skips when
the spec is absent (see ``openapi_contract.SPEC_ENV``).
"""

from __future__ import annotations

import http.server
import json
import pathlib
import threading
import time
import types
from urllib.parse import urlsplit

import pytest

import openapi_contract
from openapi_contract import ContractError

BEARER = {"Authorization": "Bearer pina_test_token"}
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BASIC = {"Authorization": "Basic YXBwOnNlY3JldA=="}

BOARD = {"id": "549755885175", "name": "Kitchen ideas", "privacy": "PUBLIC"}
PIN = {"id": "813744226420795884", "created_at": "2026-11-01T10:00:00Z", "title": "Oats", "board_id": "549755885175"}
SECTION = {"id": "5027629787972154693", "name": "Breakfast"}
GOOD_PIN_BODY = {
    "board_id": "549755885175",
    "title": "Overnight oats",
    "media_source": {"source_type": "image_url", "url": "https://www.example.com/oats.jpg"},
}


@pytest.fixture(scope="module")
def contract() -> openapi_contract.Contract:
    return openapi_contract.load_contract()


def ok_response(contract, method, path, status, body, query=None, request_body=None, headers=JSON):
    contract.check_response(method, path, query, BEARER, request_body, status, headers, body)


# --------------------------------------------------------------------------- spec location


def test_env_var_pointing_at_missing_file_skips_with_reason(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "openapi.json"
    monkeypatch.setenv(openapi_contract.SPEC_ENV, str(missing))
    assert openapi_contract.spec_path() is None
    with pytest.raises(pytest.skip.Exception) as info:
        openapi_contract.load_contract()
    reason = str(info.value)
    assert openapi_contract.SPEC_ENV in reason
    assert str(missing) in reason


def test_missing_default_path_is_named_in_skip_reason(monkeypatch):
    monkeypatch.delenv(openapi_contract.SPEC_ENV, raising=False)
    default = (pathlib.Path(__file__).resolve().parents[2] / "shared" / "pinterest-api" / "openapi.json").resolve()
    reason = openapi_contract.missing_spec_reason()
    assert openapi_contract.SPEC_ENV in reason and str(default) in reason
    # Without the variable, the spec is looked for there and nowhere else.
    assert openapi_contract.spec_path() == (default if default.is_file() else None)


def test_env_var_may_name_the_directory(monkeypatch, contract):
    real = openapi_contract.spec_path()
    assert real is not None
    monkeypatch.setenv(openapi_contract.SPEC_ENV, str(real.parent))
    assert openapi_contract.spec_path() == real.parent / "openapi.json"
    assert openapi_contract.load_contract() is openapi_contract.load_contract()  # cached


# --------------------------------------------------------------------------- the checker can fail


def test_operation_ids(contract):
    assert contract.operation_id("GET", "/v5/boards") == "boards/list"
    assert contract.operation_id("get", "/v5/boards/1/sections/2/pins?page_size=3") == "board_sections/list_pins"
    assert contract.operation_id("POST", "/v5/oauth/token") == "oauth/token"
    assert contract.operation_id("DELETE", "/v5/boards/1") == "boards/delete"
    assert contract.operation_id("GET", "/v5/no/such/thing") is None


def test_management_operations_are_in_scope_and_checked(contract):
    """Issue 15's operations: found by id, and their bodies held to the spec (test_sandbox_manage.py
    checks every exchange of the sandbox's implementation)."""
    assert contract.operation_id("POST", "/v5/pins/4/save") == "pins/save"
    assert contract.operation_id("PATCH", "/v5/pins/4") == "pins/update"
    contract.check_request("POST", "/v5/boards", None, JSON | BEARER, {"name": "x", "privacy": "SECRET"})
    with pytest.raises(ContractError, match="is not one of"):
        contract.check_request("PATCH", "/v5/boards/1", None, JSON | BEARER, {"privacy": "PROTECTED"})
    with pytest.raises(ContractError, match="is too long"):
        contract.check_request("PATCH", "/v5/pins/4", None, JSON | BEARER, {"title": "x" * 101})
    contract.check_response("DELETE", "/v5/pins/4", None, BEARER, None, 204, {}, b"")
    with pytest.raises(ContractError, match="'name' is a required property"):
        contract.check_response("POST", "/v5/boards/1/sections", None, BEARER, {"name": "s"}, 201, JSON, {"id": "2"})


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v5/user_account/following"),
        ("DELETE", "/v5/boards/1/sections/2"),
        ("GET", "/v5/nope"),
        ("GET", "/boards"),
    ],
)
def test_unknown_or_unused_path_is_rejected(contract, method, path):
    with pytest.raises(ContractError, match="not an operation the plugin uses"):
        contract.check_request(method, path, None, BEARER, None)
    with pytest.raises(ContractError, match="not an operation the plugin uses"):
        contract.check_response(method, path, None, BEARER, None, 200, JSON, {"items": []})


@pytest.mark.parametrize(
    "body, message",
    [
        ({"items": [{"name": "no id"}]}, "'id' is a required property"),
        ({"items": "x"}, "'x' is not of type 'array'"),
        ({"bookmark": None}, "'items' is a required property"),
        ({"items": [{"id": 549755885175, "name": "n"}]}, "is not of type 'string'"),
    ],
)
def test_bad_board_list_response_fails(contract, body, message):
    with pytest.raises(ContractError) as info:
        ok_response(contract, "GET", "/v5/boards", 200, body)
    text = str(info.value)
    assert message in text
    assert "GET /v5/boards (boards/list) -> 200 response" in text


def test_good_samples_pass(contract):
    ok_response(contract, "GET", "/v5/boards", 200, {"items": [BOARD], "bookmark": None})
    ok_response(contract, "GET", "/v5/boards", 200, json.dumps({"items": [], "bookmark": "b2"}).encode())
    ok_response(contract, "GET", "/v5/boards/1/sections", 200, {"items": [SECTION], "bookmark": None})
    ok_response(contract, "GET", "/v5/boards/1/pins", 200, {"items": [PIN], "bookmark": "x"})
    ok_response(contract, "GET", "/v5/boards/1/sections/2/pins", 200, {"items": [PIN], "bookmark": None})
    ok_response(contract, "GET", "/v5/user_account", 200, {"username": "u", "account_type": "BUSINESS"})
    ok_response(contract, "POST", "/v5/pins", 201, PIN, request_body=GOOD_PIN_BODY)
    ok_response(contract, "POST", "/v5/pins", 200, PIN, request_body=GOOD_PIN_BODY)
    contract.check_request("GET", "/v5/boards", {"page_size": "250", "bookmark": "abc"}, BEARER, None)
    contract.check_request("GET", "/v5/boards?page_size=1&privacy=ALL", None, BEARER, None)
    contract.check_request("GET", "/v5/boards/1/sections/2/pins", "page_size=25", BEARER, None)
    contract.check_request(
        "POST",
        "/v5/pins",
        None,
        {**BEARER, "Content-Type": "application/json; charset=utf-8"},
        json.dumps(GOOD_PIN_BODY).encode(),
    )
    contract.check_request(
        "POST",
        "/v5/oauth/token",
        None,
        {**BASIC, **FORM},
        b"grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fx.example%2Fcb",
    )
    contract.check_request(
        "POST", "/v5/oauth/token", None, BASIC, {"grant_type": "refresh_token", "refresh_token": "r"}
    )


def test_page_size_must_be_an_integer_in_range(contract):
    with pytest.raises(ContractError, match="page_size"):
        contract.check_request("GET", "/v5/boards", {"page_size": "abc"}, BEARER, None)
    with pytest.raises(ContractError, match="less than the minimum of 1"):
        contract.check_request("GET", "/v5/boards/1/pins", {"page_size": "0"}, BEARER, None)
    with pytest.raises(ContractError, match="greater than the maximum of 250"):
        contract.check_request("GET", "/v5/boards/1/sections", "page_size=251", BEARER, None)


def test_undeclared_query_parameter_and_bad_path_id_fail(contract):
    with pytest.raises(ContractError, match="'limit' is not declared by boards/list"):
        contract.check_request("GET", "/v5/boards", {"limit": "5"}, BEARER, None)
    with pytest.raises(ContractError, match="board_id"):
        contract.check_request("GET", "/v5/boards/abc/pins", None, BEARER, None)


def test_create_pin_request_body_is_validated(contract):
    with pytest.raises(ContractError) as info:
        contract.check_request("POST", "/v5/pins", None, {**BEARER, **JSON}, json.dumps({**GOOD_PIN_BODY, "title": 5}))
    assert "title: 5 is not of type 'string'" in str(info.value)
    assert "POST /v5/pins (pins/create) request" in str(info.value)
    with pytest.raises(ContractError, match="Missing required request body"):
        contract.check_request("POST", "/v5/pins", None, BEARER, None)
    with pytest.raises(ContractError, match="'url' is a required property"):
        contract.check_request(
            "POST", "/v5/pins", None, BEARER, {"board_id": "1", "media_source": {"source_type": "image_url"}}
        )
    with pytest.raises(ContractError, match="no Content-Type"):
        contract.check_request("POST", "/v5/pins", None, BEARER, json.dumps(GOOD_PIN_BODY).encode())


def test_token_request_is_checked_per_grant(contract):
    with pytest.raises(ContractError, match="'bogus' is not one of"):
        contract.check_request("POST", "/v5/oauth/token", None, {**BASIC, **FORM}, b"grant_type=bogus")
    with pytest.raises(ContractError, match="'code' is a required property"):
        contract.check_request(
            "POST", "/v5/oauth/token", None, {**BASIC, **FORM}, b"grant_type=authorization_code&redirect_uri=x"
        )
    with pytest.raises(ContractError, match="'refresh_token' is a required property"):
        contract.check_request("POST", "/v5/oauth/token", None, BASIC, {"grant_type": "refresh_token"})
    with pytest.raises(ContractError, match="mimetype not found: application/json"):
        contract.check_request(
            "POST", "/v5/oauth/token", None, {**BASIC, **JSON}, b'{"grant_type": "refresh_token", "refresh_token": "r"}'
        )


def test_token_response_is_checked_and_secrets_are_redacted(contract):
    good = {"access_token": "pina_AAAAsecret", "token_type": "bearer", "expires_in": 2592000, "scope": "boards:read"}
    contract.check_response(
        "POST",
        "/v5/oauth/token",
        None,
        {**BASIC, **FORM},
        b"grant_type=refresh_token&refresh_token=pinr_x",
        200,
        JSON,
        good,
    )
    with pytest.raises(ContractError) as info:
        contract.check_response(
            "POST",
            "/v5/oauth/token",
            None,
            BASIC,
            None,
            200,
            JSON,
            {**good, "expires_in": "soon", "refresh_token": "pinr_BBBBsecret"},
        )
    assert "expires_in" in str(info.value)
    assert "pina_AAAAsecret" not in str(info.value) and "pinr_BBBBsecret" not in str(info.value)
    with pytest.raises(ContractError, match="'refresh_token_expires_at' is a required property"):
        contract.check_response(
            "POST",
            "/v5/oauth/token",
            None,
            BASIC,
            None,
            200,
            JSON,
            {**good, "response_type": "refresh_token", "refresh_token": "r"},
        )


def test_error_bodies_use_declared_status_or_default(contract):
    # 404 is declared by boards/list_pins; 429 and 500 only through `default`.
    for status in (400, 401, 403, 404, 409, 429, 500):
        ok_response(contract, "GET", "/v5/boards/1/pins", status, {"code": 8, "message": "m"})
        ok_response(contract, "POST", "/v5/oauth/token", status, {"code": 1, "message": "m"})
    with pytest.raises(ContractError, match="'message' is a required property"):
        ok_response(contract, "GET", "/v5/boards/1/pins", 404, {"code": 404})
    with pytest.raises(ContractError, match="'x' is not of type 'integer'"):
        ok_response(contract, "GET", "/v5/boards/1/sections", 500, {"code": "x", "message": "m"})
    with pytest.raises(ContractError, match="'code' is a required property"):
        ok_response(contract, "POST", "/v5/pins", 429, {"message": "slow down"})
    with pytest.raises(ContractError, match="text/plain"):
        ok_response(
            contract, "GET", "/v5/user_account", 503, b"Service Unavailable", headers={"Content-Type": "text/plain"}
        )


def test_spec_quirks_are_enforced(contract):
    with pytest.raises(ContractError, match="is not a 'date-time'"):
        ok_response(
            contract, "GET", "/v5/boards/1/pins", 200, {"items": [{**PIN, "created_at": "2026-11-01T10:00:00"}]}
        )
    with pytest.raises(ContractError, match="creative_type"):
        ok_response(contract, "GET", "/v5/boards/1/pins", 200, {"items": [{**PIN, "creative_type": None}]})


def test_check_exchange_duck_typed(contract):
    ex = types.SimpleNamespace(
        method="GET",
        path="/v5/boards",
        query={"page_size": ["abc"]},
        headers=BEARER,
        body=b"",
        status=400,
        response_headers=JSON,
        response_body=b'{"code": 1, "message": "bad page_size"}',
        fault=None,
    )
    with pytest.raises(ContractError, match="page_size"):
        contract.check_exchange(ex)
    contract.check_exchange_response(ex)
    # no response: only the request is checked
    ex = types.SimpleNamespace(
        method="GET",
        path="/v5/boards",
        query="page_size=5",
        headers=BEARER,
        body=None,
        status=None,
        response_headers=None,
        response_body=None,
        fault="reset",
    )
    contract.check_exchange(ex)
    ex.status, ex.fault, ex.response_body = 200, "trickle", b"{not json"
    contract.check_exchange(ex)  # fault set: response not checked


# --------------------------------------------------------------------------- a tiny scripted server


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers with a scripted (status, body) and records the exchange."""

    script: list = []
    exchanges: list = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.script.pop(0)
        raw = json.dumps(payload).encode()
        parts = urlsplit(self.path)
        # Recorded before answering: the client sends its next request only after this answer,
        # so the recorded order is the order sent (appending after the write raced the next one).
        self.exchanges.append(
            types.SimpleNamespace(
                method=self.command,
                path=parts.path,
                query=parts.query,
                headers=list(self.headers.items()),
                body=body,
                status=status,
                response_headers={"Content-Type": "application/json"},
                response_body=raw,
                fault=None,
            )
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _handle


def test_scripted_server_exchanges(contract):
    requests = pytest.importorskip("requests")
    _Recorder.script = [(200, {"items": [BOARD], "bookmark": None}), (201, PIN), (200, {"items": [{"name": "x"}]})]
    _Recorder.exchanges = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v5"
    try:
        with requests.Session() as s:
            s.trust_env = False
            s.get(f"{base}/boards", params={"page_size": 10}, headers=BEARER, timeout=5)
            s.post(f"{base}/pins", json=GOOD_PIN_BODY, headers=BEARER, timeout=5)
            s.get(f"{base}/boards", headers=BEARER, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    first, second, third = _Recorder.exchanges
    contract.check_exchange(first)
    contract.check_exchange(second)
    with pytest.raises(ContractError, match="'id' is a required property"):
        contract.check_exchange(third)


# --------------------------------------------------------------------------- the sandbox

REDIRECT_URI = "https://localhost:8765/callback"


@pytest.fixture(scope="module")
def sandbox(contract):
    from modulex_pinterest.sandbox import Sandbox

    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def web():
    requests = pytest.importorskip("requests")
    with requests.Session() as session:
        session.trust_env = False  # no ~/.netrc, no proxies
        session.statuses = []  # every answer's status, in order
        session.hooks["response"].append(lambda r, *args, **kwargs: session.statuses.append(r.status_code))
        yield session


@pytest.fixture
def sb(sandbox, web):
    reset(sandbox, web)
    yield sandbox
    reset(sandbox, web)


def reset(sb, web):
    """Forget earlier exchanges, once every answered request has been recorded."""
    recorded(sb, len(web.statuses))
    sb.clear_exchanges()
    web.statuses.clear()


def call(web, sb, method, path, *, token=True, **kw):
    headers = dict(kw.pop("headers", {}))
    if token is True:
        headers["Authorization"] = f"Bearer {sb.access_token}"
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    return web.request(method, sb.base_url + path, headers=headers, timeout=15, **kw)


def token_call(web, sb, form, *, secret=None):
    return web.post(sb.base_url + "/oauth/token", data=form, auth=(sb.app_id, secret or sb.app_secret), timeout=15)


def recorded(sb, count):
    """The ``count`` exchanges so far. The sandbox records an exchange before it
    writes the answer, so every request a client has its answer to is listed."""
    exchanges = sb.exchanges
    assert len(exchanges) == count, exchanges
    return exchanges


def check_recorded(contract, sb, expect, *, request_invalid=()):
    """Check every recorded exchange: request and response, or only the response
    for the indices in ``request_invalid`` (requests made invalid on purpose).
    ``expect`` is the list of statuses, one per exchange, in arrival order."""
    exchanges = recorded(sb, len(expect))
    assert exchanges and [e.status for e in exchanges] == expect
    for i, ex in enumerate(exchanges):
        assert ex.fault is None
        if i in request_invalid:
            with pytest.raises(ContractError):
                contract.check_request(ex.method, ex.path, ex.query, ex.headers, ex.body)
            contract.check_exchange_response(ex)
        else:
            contract.check_exchange(ex)
    return exchanges


def first_board_with_sections(web, sb):
    boards = call(web, sb, "GET", "/boards", params={"page_size": 250}).json()["items"]
    for board in boards:
        sections = call(web, sb, "GET", f"/boards/{board['id']}/sections").json()["items"]
        if sections:
            return board, sections
    raise AssertionError("the demo data has no board with sections")


def test_sandbox_reads_match_the_spec(contract, sb, web):
    r = call(web, sb, "GET", "/user_account")
    assert r.status_code == 200
    r = call(web, sb, "GET", "/boards", params={"page_size": 2})
    assert r.status_code == 200 and r.json()["bookmark"]
    r = call(web, sb, "GET", "/boards", params={"page_size": 2, "bookmark": r.json()["bookmark"]})
    assert r.status_code == 200
    boards = call(web, sb, "GET", "/boards", params={"privacy": "ALL"}).json()["items"]
    for board in boards:
        assert call(web, sb, "GET", f"/boards/{board['id']}/sections", params={"page_size": 25}).status_code == 200
        assert call(web, sb, "GET", f"/boards/{board['id']}/pins", params={"page_size": 10}).status_code == 200
    board, sections = first_board_with_sections(web, sb)
    for section in sections:
        r = call(web, sb, "GET", f"/boards/{board['id']}/sections/{section['id']}/pins", params={"page_size": 3})
        assert r.status_code == 200 and r.json()["items"]
    assert set(web.statuses) == {200}
    check_recorded(contract, sb, web.statuses)


def test_sandbox_create_pin_matches_the_spec(contract, sb, web):
    board, sections = first_board_with_sections(web, sb)
    reset(sb, web)
    body = {
        "board_id": board["id"],
        "board_section_id": sections[0]["id"],
        "title": "Contract test pin",
        "description": "Created by tests/test_contract.py",
        "link": "https://www.example.com/contract",
        "alt_text": "A test image",
        "media_source": {"source_type": "image_url", "url": "https://www.example.com/contract.jpg"},
    }
    r = call(web, sb, "POST", "/pins", json=body)
    assert r.status_code in (200, 201), r.text
    minimal = {"board_id": board["id"], "media_source": body["media_source"]}
    r2 = call(web, sb, "POST", "/pins", json=minimal)
    assert r2.status_code in (200, 201), r2.text
    check_recorded(contract, sb, web.statuses)


def test_sandbox_errors_match_the_spec(contract, sb, web):
    board, sections = first_board_with_sections(web, sb)
    reset(sb, web)
    unknown = "999999999999999999"
    media = {"source_type": "image_url", "url": "https://www.example.com/x.jpg"}
    plan = [
        # (method, path, kwargs, expected status, request deliberately invalid)
        ("GET", "/boards", {"params": {"page_size": 0}}, 400, True),
        ("GET", "/boards", {"params": {"page_size": 251}}, 400, True),
        ("GET", f"/boards/{board['id']}/pins", {"params": {"page_size": "abc"}}, 400, True),
        ("GET", f"/boards/{board['id']}/sections", {"params": {"page_size": 0}}, 400, True),
        ("GET", f"/boards/{board['id']}/pins", {"params": {"bookmark": "not-a-bookmark"}}, 400, False),
        ("POST", "/pins", {"json": {"board_id": board["id"], "title": 5, "media_source": media}}, 400, True),
        ("POST", "/pins", {"json": {"board_id": board["id"], "media_source": {"source_type": "image_url"}}}, 400, True),
        ("POST", "/pins", {"json": {"title": "no board", "media_source": media}}, 400, False),
        ("POST", "/pins", {"json": {"board_id": unknown, "media_source": media}}, 404, False),
        ("GET", "/boards", {"token": None}, 401, False),
        ("GET", "/user_account", {"token": None}, 401, False),
        ("GET", f"/boards/{board['id']}/pins", {"token": "pina_not_a_real_token"}, 401, False),
        ("POST", "/pins", {"token": None, "json": {"board_id": board["id"], "media_source": media}}, 401, False),
        ("GET", f"/boards/{unknown}/pins", {}, 404, False),
        ("GET", f"/boards/{unknown}/sections", {}, 404, False),
        ("GET", f"/boards/{unknown}/sections/{sections[0]['id']}/pins", {}, 404, False),
        ("GET", f"/boards/{board['id']}/sections/{unknown}/pins", {}, 404, False),
        ("GET", "/boards", {"params": {"privacy": "FRIENDS"}}, 400, True),
        (
            "POST",
            "/pins",
            {"data": "title=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            None,
            True,
        ),
        ("POST", "/pins", {"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, True),
        ("GET", "/user_account", {"token": "pina_contract_expired"}, 401, False),
    ]
    sb.add_access_token("pina_contract_expired", expires_in=60)
    sb.expire_access_token("pina_contract_expired")
    for method, path, kwargs, status, _ in plan:
        r = call(web, sb, method, path, **kwargs)
        if status is None:  # any client error will do
            assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
        else:
            assert r.status_code == status, (method, path, kwargs, r.status_code, r.text)
        body = r.json()
        assert isinstance(body.get("code"), int) and isinstance(body.get("message"), str)
    invalid = {i for i, step in enumerate(plan) if step[4]}
    assert [want or got for (*_, want, _), got in zip(plan, web.statuses, strict=True)] == web.statuses
    check_recorded(contract, sb, web.statuses, request_invalid=invalid)


def test_sandbox_privacy_filters_match_the_spec(contract, sb, web):
    for privacy in ("ALL", "PUBLIC", "PROTECTED", "SECRET", "PUBLIC_AND_SECRET"):
        assert call(web, sb, "GET", "/boards", params={"privacy": privacy, "page_size": 1}).status_code == 200
    check_recorded(contract, sb, web.statuses)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_sandbox_injected_error_statuses_match_the_spec(contract, sb, web, status):
    """Injected 'status' faults answer with Pinterest's error JSON by default;
    check_exchange skips faulted exchanges, so check the response directly."""
    paths = ["/boards", "/boards/1/pins", "/user_account", "/pins"]
    sb.inject_fault("status", count=len(paths) + 1, status=status)
    for path in paths:
        method = "POST" if path == "/pins" else "GET"
        kwargs = (
            {"json": {"board_id": "1", "media_source": {"source_type": "image_url", "url": "https://e.x/a.jpg"}}}
            if method == "POST"
            else {}
        )
        assert call(web, sb, method, path, **kwargs).status_code == status
    assert token_call(web, sb, {"grant_type": "refresh_token", "refresh_token": "r"}).status_code == status
    for ex in recorded(sb, len(paths) + 1):
        assert ex.fault == "status"
        contract.check_request(ex.method, ex.path, ex.query, ex.headers, ex.body)
        contract.check_response(
            ex.method, ex.path, ex.query, ex.headers, ex.body, ex.status, ex.response_headers, ex.response_body
        )


def test_sandbox_missing_scope_matches_the_spec(contract, sb, web):
    sb.add_access_token("pina_contract_read_only", scopes=("user_accounts:read",))
    r = call(web, sb, "GET", "/boards", token="pina_contract_read_only")
    assert r.status_code in (401, 403), r.text  # the spec declares both for boards/list
    r2 = call(web, sb, "GET", f"/boards/{sb.add_large_board(pin_count=1)}/pins", token="pina_contract_read_only")
    assert r2.status_code in (401, 403), r2.text  # list_pins: only through `default`
    assert call(web, sb, "GET", "/user_account", token="pina_contract_read_only").status_code == 200
    check_recorded(contract, sb, web.statuses)


def test_sandbox_token_endpoint_matches_the_spec(contract, sb, web):
    scopes = ["boards:read", "pins:read", "pins:write", "boards:write", "user_accounts:read"]
    code = sb.issue_authorization_code(sb.app_id, REDIRECT_URI, scopes)
    r = token_call(web, sb, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    assert r.status_code == 200, r.text
    tokens = r.json()
    r = token_call(web, sb, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    r = token_call(
        web, sb, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "continuous_refresh": "true"}
    )
    assert r.status_code == 200, r.text
    rotated = r.json()["refresh_token"]
    assert call(web, sb, "GET", "/user_account", token=r.json()["access_token"]).status_code == 200
    # errors: reused code, unknown refresh token, bad client secret, unsupported grants, missing fields
    errors = [
        ({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, None, False),
        ({"grant_type": "refresh_token", "refresh_token": "pinr_unknown"}, None, False),
        ({"grant_type": "refresh_token", "refresh_token": rotated}, "wrong-secret", False),
        ({"grant_type": "password", "username": "u", "password": "p"}, None, True),
        ({"grant_type": "client_credentials", "scope": "boards:read"}, None, False),
        ({"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}, None, True),
    ]
    for form, secret, _ in errors:
        r = token_call(web, sb, form, secret=secret)
        assert r.status_code in (400, 401), (form, r.status_code, r.text)
    invalid = {4 + i for i, step in enumerate(errors) if step[2]}
    check_recorded(contract, sb, web.statuses, request_invalid=invalid)


def paginate(contract, sb, web, path, page_size):
    """Follow bookmarks to the end, checking every page's exchange as it comes."""
    ids, bookmarks, params = [], set(), {"page_size": page_size}
    while True:
        reset(sb, web)
        r = call(web, sb, "GET", path, params=params)
        assert r.status_code == 200, r.text
        (ex,) = recorded(sb, 1)
        assert ex.response_headers["Content-Encoding"] == "gzip"  # checked below with its decoded body
        contract.check_exchange(ex)
        page = r.json()
        ids += [p["id"] for p in page["items"]]
        bookmark = page.get("bookmark")
        if not bookmark:
            return ids
        assert bookmark not in bookmarks, "a bookmark repeated"
        bookmarks.add(bookmark)
        params = {"page_size": page_size, "bookmark": bookmark}


def test_sandbox_paginates_demo_and_large_boards(contract, sb, web):
    boards = call(web, sb, "GET", "/boards", params={"page_size": 250}).json()["items"]
    demo = max(boards, key=lambda b: b.get("pin_count", 0))
    assert demo.get("pin_count") == 600
    ids = paginate(contract, sb, web, f"/boards/{demo['id']}/pins", 100)
    assert len(ids) == len(set(ids)) == demo["pin_count"]
    large_id = sb.add_large_board(pin_count=1000)
    large_id = large_id if isinstance(large_id, str) else large_id["id"]
    ids = paginate(contract, sb, web, f"/boards/{large_id}/pins", 250)
    assert len(ids) == len(set(ids)) == 1000


def test_every_request_in_the_manifest_names_the_specs_rate_limit_category(contract):
    """The shared budget is kept per Pinterest rate-limit category: the
    manifest's category for each call must be the spec's x-ratelimit-category."""
    from modulex_pinterest.plugin.spec import manifest

    raw = manifest.raw_manifest()
    requests_ = [raw["credential_check"]["request"]] + [action["request"] for action in raw["actions"]]
    requests_ += [call for action in raw["actions"] for call in action.get("media_requests", {}).values()]
    checked = 0
    for request in requests_:
        for template in filter(None, (request["path"], request.get("section_path"))):
            path = template.replace("{board_id}", "1").replace("{board_section_id}", "2").replace("{media_id}", "3")
            path = path.replace("{pin_id}", "4")
            op_id = contract.operation_id(request["method"], "/v5" + path)
            spec_path = next(
                p
                for p, ops in contract.spec_dict["paths"].items()
                for op in ops.values()
                if isinstance(op, dict) and op.get("operationId") == op_id
            )
            operation = contract.spec_dict["paths"][spec_path][request["method"].lower()]
            assert request["rate_limit_category"] == operation["x-ratelimit-category"], (template, op_id)
            checked += 1
    # 7 (the four, the media ones), POST /media, GET /media/{media_id}, the nine management actions,
    # the four account and search reads, and the four analytics reads
    assert checked == 28


# ----- media uploads and every media_source type (issue 14) --------------------

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 1000
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
JPEG_B64 = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5"
    "PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
)


def test_media_operations_are_in_scope(contract):
    assert contract.operation_id("POST", "/v5/media") == "media/create"
    assert contract.operation_id("GET", "/v5/media?page_size=2") == "media/list"
    assert contract.operation_id("GET", "/v5/media/12345") == "media/get"
    contract.check_request("POST", "/v5/media", None, BEARER, {"media_type": "video"})
    with pytest.raises(ContractError):
        contract.check_request("POST", "/v5/media", None, BEARER, {"media_type": "image"})
    with pytest.raises(ContractError, match="not an operation"):
        contract.check_request("POST", "/media-uploads", None, {}, b"")  # S3's, not the API's


def _uploaded_video(sb, web):
    """A media of the demo app, uploaded and succeeded; the exchanges so far are forgotten."""
    info = call(web, sb, "POST", "/media", json={"media_type": "video"}).json()
    response = web.post(info["upload_url"], data=info["upload_parameters"], files={"file": ("v.mp4", MP4)}, timeout=15)
    assert response.status_code == 204
    deadline = time.monotonic() + 5
    while call(web, sb, "GET", f"/media/{info['media_id']}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline, "media processing did not end within 5 s"
        time.sleep(0.01)  # a poll interval, bounded by the deadline
    assert urlsplit(info["upload_url"]).path == "/media-uploads"  # outside /v5: the fixture skips it
    reset(sb, web)
    return info


def test_sandbox_media_flow_matches_the_spec(contract, sb, web):
    info = call(web, sb, "POST", "/media", json={"media_type": "video"}).json()
    assert set(info["upload_parameters"]) >= {"key", "policy", "x-amz-signature", "Content-Type"}
    call(web, sb, "GET", f"/media/{info['media_id']}")
    page = call(web, sb, "GET", "/media", params={"page_size": 1}).json()
    call(web, sb, "GET", "/media", params={"page_size": 1, "bookmark": page["bookmark"]})
    call(web, sb, "GET", "/media/1")
    call(web, sb, "POST", "/media", json={"media_type": "video"}, token=False)
    call(web, sb, "GET", "/media", params={"bookmark": "not-one"})
    check_recorded(contract, sb, [201, 200, 200, 200, 404, 401, 400])


def test_sandbox_media_sources_match_the_spec(contract, sb, web):
    video = _uploaded_video(sb, web)
    board_id = call(web, sb, "GET", "/boards").json()["items"][0]["id"]
    registered = call(web, sb, "POST", "/media", json={"media_type": "video"}).json()["media_id"]
    png = {"content_type": "image/png", "data": PNG_B64}
    jpeg = {"content_type": "image/jpeg", "data": JPEG_B64}
    urls = [{"url": f"https://www.example.com/{i}.jpg", "title": f"{i}"} for i in range(3)]
    sources = [
        ({"source_type": "image_base64", **png}, 201),
        ({"source_type": "image_base64", **jpeg}, 201),
        ({"source_type": "multiple_image_urls", "items": urls, "index": 1}, 201),
        ({"source_type": "multiple_image_base64", "items": [png, {**jpeg, "link": "https://e.com/x"}]}, 201),
        ({"source_type": "video_id", "media_id": video["media_id"], "cover_image_url": "https://e.com/c.jpg"}, 201),
        ({"source_type": "video_id", "media_id": video["media_id"], "cover_image_key_frame_time": 1}, 201),
        (
            {
                "source_type": "video_id",
                "media_id": video["media_id"],
                "cover_image_data": JPEG_B64,
                "cover_image_content_type": "image/jpeg",
            },
            201,
        ),
        ({"source_type": "image_base64", "content_type": "image/png", "data": JPEG_B64}, 400),
        ({"source_type": "video_id", "media_id": registered}, 400),
        ({"source_type": "video_id", "media_id": "1"}, 400),
    ]
    for source, status in sources:
        response = call(web, sb, "POST", "/pins", json={"board_id": board_id, "media_source": source})
        assert response.status_code == status, (source["source_type"], response.text)
    call(web, sb, "GET", f"/boards/{board_id}/pins")
    call(web, sb, "GET", "/boards")
    check_recorded(contract, sb, [200, 201] + [status for _, status in sources] + [200, 200])
