"""Issue 21's acceptance: one table of request semantics, plain actions as data,
request-level reauthorization. Against the sandbox and raw loopback servers,
through the installed plugin and the reference host."""

import json
import socket

import pytest

from modulex_pinterest.host import MemoryStore
from raw_server import RawServer
from test_cli import cli, strict_json
from test_mcp import mcp_session, text_of
from test_oauth import authorize

PLUGIN = "pinterest"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4096)
COVER = "https://images.example.com/cover.jpg"


def run_with_reports(host, action, inputs, base_url, token, **settings):
    reports = []
    credentials = {"mode": "access_token", "access_token": token}
    output = host.run(
        PLUGIN, action, inputs, credentials, dict(settings, base_url=base_url), report_failure=reports.append
    )
    return output, reports


# ----- get_board: a plain action added as data -----------------------------------------------


def test_get_board_through_the_hooks(host, sandbox):
    board = sandbox.boards[0]
    out = host.run(PLUGIN, "get_board", {"board_id": board["id"]}, {"access_token": sandbox.access_token},
                   {"base_url": sandbox.base_url})  # fmt: skip
    assert out["success"], out
    assert (out["id"], out["name"], out["board"]["id"]) == (board["id"], board["name"], board["id"])
    missing = host.run(PLUGIN, "get_board", {"board_id": "999"}, {"access_token": sandbox.access_token},
                       {"base_url": sandbox.base_url})  # fmt: skip
    assert missing["success"] is False and missing["error"].startswith("Board 999 not found")


def test_get_board_through_the_cli(sandbox, tmp_path):
    board = sandbox.boards[1]
    result = cli("run", "get_board", "--input", json.dumps({"board_id": board["id"]}), "--base-url",
                 sandbox.base_url, token=sandbox.access_token, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)["name"] == board["name"]


def test_get_board_through_mcp(sandbox, tmp_path):
    board = sandbox.boards[2]
    with mcp_session(sandbox.base_url, sandbox.access_token, tmp_path) as session:
        session.initialize()
        tool = {t["name"]: t for t in session.list_tools()}["get_board"]
        assert tool["annotations"]["readOnlyHint"] is True and tool["annotations"]["idempotentHint"] is True
        answer = session.call_tool("get_board", {"board_id": board["id"]})
    assert answer.get("isError") is not True, text_of(answer)
    assert answer["structuredContent"]["name"] == board["name"]


# ----- a DELETE whose answer was lost, and the engine's retry ---------------------------------


def test_a_timed_out_delete_retried_by_the_engine_ends_in_success(host, sandbox, wait_until):
    listed, _ = run_with_reports(host, "list_pins", {"board_id": sandbox.boards[0]["id"]}, sandbox.base_url,
                                 sandbox.access_token)  # fmt: skip
    pin_id = listed["pins"][0]["id"]
    sandbox.inject_fault("delay", delay=1.0, method="DELETE")  # deletes after the client gave up
    out, reports = run_with_reports(host, "delete_pin", {"pin_id": pin_id}, sandbox.base_url,
                                    sandbox.access_token, timeout=0.3, max_retries=0)  # fmt: skip
    assert out["success"] is False and "timed out" in out["error"]
    assert [(r["kind"], r["retryable"]) for r in reports] == [("timeout", True)]
    wait_until(lambda: sandbox.get_pin(pin_id) is None)  # the server did delete
    again, reports = run_with_reports(host, "delete_pin", {"pin_id": pin_id}, sandbox.base_url, sandbox.access_token)
    assert again == {"success": True, "error": None, "pin_id": pin_id, "already_gone": True}
    assert reports == []


# ----- a write whose answer was lost says what may exist, and is not run again ----------------


def _act_then_hang_up(conn, request):
    """The server takes the request (it is recorded: it acted), then closes without answering."""
    conn.shutdown(socket.SHUT_RDWR)
    return False


PIN_ID, BOARD_ID = "813744226420795884", "397233545249"


@pytest.mark.parametrize(
    "action, inputs, what",
    [
        ("save_pin", {"pin_id": PIN_ID, "board_id": BOARD_ID}, "the pin may or may not have been saved"),
        ("create_board", {"name": "Drafts"}, "the board may or may not have been created"),
        (
            "create_board_section",
            {"board_id": BOARD_ID, "name": "Tarts"},
            "the section may or may not have been created",
        ),
    ],
)
def test_a_lost_answer_to_a_write_says_it_may_have_acted_and_is_not_retryable(host, action, inputs, what):
    with RawServer(_act_then_hang_up) as server:
        out, reports = run_with_reports(host, action, inputs, server.base_url, "pina_x", max_retries=3)
        sent = list(server.requests)
    assert out["success"] is False and what in out["error"], out["error"]
    assert len(sent) == 1  # never resent
    assert [(r["kind"], r["retryable"]) for r in reports] == [("connection", False)]


# ----- a 401 refreshes and resends the one request, never the whole action -------------------


def test_a_video_pin_whose_create_gets_a_401_uploads_and_registers_once(host, sandbox, tmp_path):
    (tmp_path / "clip.mp4").write_bytes(MP4)
    store = MemoryStore(authorize(sandbox))
    sandbox.inject_fault("status", status=401, body={"code": 2, "message": "Authentication failed."},
                         method="POST", path_prefix="/v5/pins")  # fmt: skip
    sandbox.clear_exchanges()
    inputs = {"board_id": sandbox.boards[0]["id"], "title": "A video", "video_path": str(tmp_path / "clip.mp4"),
              "cover_image_url": COVER}  # fmt: skip
    out = host.run(PLUGIN, "create_video_pin", inputs, None,
                   {"base_url": sandbox.base_url, "file_roots": [str(tmp_path)]}, store=store)  # fmt: skip
    assert out["success"], out
    calls = [(e.method, e.path.split("?")[0], e.status) for e in sandbox.exchanges]
    assert [c for c in calls if c[:2] == ("POST", "/v5/media")] == [("POST", "/v5/media", 201)]
    assert len([c for c in calls if "upload" in c[1]]) == 1, calls
    assert [c[2] for c in calls if c[:2] == ("POST", "/v5/pins")] == [401, 201]
    assert len([c for c in calls if c[1].endswith("/oauth/token")]) == 1


def test_the_faces_address_the_plugin_by_its_manifest_id(host):
    import modulex_pinterest

    assert modulex_pinterest.PLUGIN == host.manifest(PLUGIN)["id"] == PLUGIN


def test_a_manifest_with_an_unknown_key_or_a_wrong_type_fails_naming_where():
    from modulex_pinterest.plugin.spec import manifest
    from modulex_pinterest.plugin.spec.schemacheck import SchemaCheck

    check = SchemaCheck(manifest.load_schema(manifest.MANIFEST_SCHEMA))
    raw = manifest.raw_manifest()
    assert check.problems(raw) == []
    typo = json.loads(json.dumps(raw))
    typo["actions"][2]["request"]["methd"] = "GET"
    assert any(p.startswith("actions[2].request.methd: unknown key") for p in check.problems(typo))
    wrong = json.loads(json.dumps(raw))
    wrong["actions"][0]["scopes"] = "boards:read"
    assert "actions[0].scopes: must be array, not str" in check.problems(wrong)
    wrong["request_semantics"]["DELETE"]["rerun"] = "yes"
    assert "request_semantics.DELETE.rerun: must be boolean, not str" in check.problems(wrong)
