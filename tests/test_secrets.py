"""With a recognisable token and DEBUG logs captured, the token appears nowhere."""

import logging

import pytest

from conftest import TOKEN
from modulex_pinterest.plugin.redaction import RedactingFilter, redact
from modulex_pinterest.plugin.run import Run
from modulex_pinterest.plugin.settings import Settings
from modulex_pinterest.plugin.transport.client import BearerAuth, PinterestClient
from scripted_server import Reply

CASES = [
    (200, {"items": [], "bookmark": None}),
    (401, {"code": 2, "message": f"bad token {TOKEN}"}),
    (403, {"code": 29, "message": "trial"}),
    (404, {"code": 40, "message": "nope"}),
    (429, {"code": 8, "message": "slow down"}),
    (500, "<html>oops</html>"),
    (200, "garbage"),
]
INPUTS = {
    "list_boards": {},
    "get_board_sections": {"board_id": "1"},
    "list_pins": {"board_id": "1", "board_section_id": "2"},
    "create_pin": {"board_id": "1", "title": "t", "media_url": "https://e.com/a.jpg"},
}


@pytest.mark.parametrize("status, body", CASES)
def test_token_never_in_outputs_or_logs(server, run, caplog, status, body):
    caplog.set_level(logging.DEBUG)
    server.default = Reply(status=status, body=body, headers={"Retry-After": "0"})
    outputs = [run(action, inputs, server.base_url, max_retries=1) for action, inputs in INPUTS.items()]
    outputs.append(run("list_boards", {"page_size": "x"}, server.base_url))
    outputs.append(run("list_boards", {}, "http://example.com/v5"))
    assert server.requests, "the server was called"
    text = repr(outputs) + caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert TOKEN not in text
    assert TOKEN[5:] not in text


def test_unreachable_server_error_has_no_token(run, caplog):
    caplog.set_level(logging.DEBUG)
    out = run("list_boards", {}, "http://127.0.0.1:9/v5", max_retries=0)
    assert out["success"] is False and "could not connect to 127.0.0.1:9" in out["error"]
    assert TOKEN not in out["error"] + caplog.text


def test_reprs_mask_the_token():
    settings = Settings({"base_url": "http://127.0.0.1:1/v5"})
    assert TOKEN not in repr(BearerAuth(TOKEN))
    assert TOKEN not in repr(PinterestClient(None, Run(settings), TOKEN))


def test_redaction_masks_token_shapes():
    assert TOKEN not in redact(f"Authorization: Bearer {TOKEN}")
    assert "s3cr3t" not in redact("refresh_token=s3cr3t&x=1")
    assert "abc" not in redact('{"access_token": "abc"}')
    assert redact("nothing here") == "nothing here"


def test_log_filter_masks_records():
    record = logging.LogRecord(
        "modulex_pinterest.plugin.transport.client", logging.DEBUG, __file__, 1, "sent %s", (f"Bearer {TOKEN}",), None
    )
    RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage()
