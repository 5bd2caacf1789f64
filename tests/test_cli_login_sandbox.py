"""Issue 26, the sandbox and ``auth login`` points, through the installed console script.

Point 1: the sandbox takes Pinterest's documented image size (a 5 MB JPEG from a
file), and a 413 says the body's size, the limit and what to do. Point 3: ``auth
login`` keeps stdout for the result JSON (the URL and the wait go to stderr), and
takes the redirected URL pasted back. Point 7: ``--app-secret VALUE`` is refused
and never echoed. Point 8: ``sandbox --env`` in a pipe without ``--background``
ends at once. Point 13: an app id the sandbox does not know is refused at once.
Point 15: files holding a secret are private (0600).
"""

import pytest

from modulex_pinterest.sandbox.server import MAX_BODY, MAX_PIN_BODY
from modulex_pinterest.sandbox.sources import MAX_IMAGE_BYTES
from test_cli import run_on_sandbox, strict_json

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def _jpeg(size: int) -> bytes:
    """``size`` bytes that start and end as a JPEG does (the magic bytes are what is checked)."""
    body = bytes(range(256)) * (size // 256 + 1)
    return JPEG_HEAD + body[: size - len(JPEG_HEAD) - 2] + b"\xff\xd9"


# ----- point 1: the sandbox's limits are Pinterest's ---------------------------------------------


def test_a_5_mb_jpeg_from_a_file_becomes_a_pin_on_the_sandbox(sandbox, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(_jpeg(5 * 1024 * 1024))
    inputs = {"board_id": sandbox.boards[0]["id"], "title": "Holiday", "file_path": str(photos / "holiday.jpg")}
    result = run_on_sandbox(sandbox, "create_pin_from_file", inputs, tmp_path, "--allow-path", str(photos))
    assert result.returncode == 0, result.stderr
    pin = strict_json(result.stdout)
    assert pin["success"] is True and pin["pin"]["id"]
    sent = [e for e in sandbox.exchanges if e.method == "POST" and e.path == "/v5/pins"]
    assert len(sent) == 1 and sent[0].status == 201 and len(sent[0].body) > 5 * 1024 * 1024 * 4 // 3


@pytest.mark.no_contract  # a body that is not JSON, on purpose
def test_the_sandbox_body_limits_follow_pinterests_media_limits(sandbox, http):
    # A new pin may carry five 20 MB images as base64 (a carousel); every other body stays small.
    assert MAX_PIN_BODY >= 5 * MAX_IMAGE_BYTES * 4 // 3 and MAX_IMAGE_BYTES == 20 * 1024 * 1024
    response = http.post(
        f"{sandbox.base_url}/boards", data=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["message"] == (
        f"Request body too large: {MAX_BODY + 1} bytes, and POST /v5/boards takes at most {MAX_BODY} bytes."
    )


def test_a_413_names_the_body_size_the_limit_and_a_next_step(sandbox, tmp_path):
    (tmp_path / "big.jpg").write_bytes(_jpeg(200_000))
    body = {"code": 413, "message": "Request body too large (max 65536 bytes)."}
    sandbox.inject_fault("status", status=413, body=body, method="POST", path_prefix="/v5/pins")
    inputs = {"board_id": sandbox.boards[0]["id"], "title": "Big", "file_path": "big.jpg"}
    result = run_on_sandbox(sandbox, "create_pin_from_file", inputs, tmp_path)
    assert result.returncode == 1, result.stderr
    error = strict_json(result.stdout)["error"]
    sent = next(e for e in sandbox.exchanges if e.path == "/v5/pins")
    assert f"the request body was {len(sent.body)} bytes" in error  # the size
    assert "max 65536 bytes" in error and "images up to 20 MB" in error  # the server's limit and Pinterest's
    assert "send a smaller file or a public image URL" in error and "raise its limit" in error  # what to do
    assert not error.startswith(("Pinterest", "Unexpected response from Pinterest"))
