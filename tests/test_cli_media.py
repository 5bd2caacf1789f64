"""The media actions (issue 14) through the installed console script, on the sandbox.

The acceptance run: a pin from a local PNG given by a relative path (the
current directory is allowed), a carousel of 3 URLs and a video pin from a
64 MB local file with a cover URL all appear in ``list_pins``; a path outside
the allowed directories, a carousel of 6 and a ``video_url`` on loopback
without ``--allow-private-network`` are refused before anything is sent or
fetched. Plus the progress lines, ``--allow-path`` and the MCP reporter.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from modulex_pinterest.apps.mcp_server import _reporter
from modulex_pinterest.host.progress import UploadThrottle, progress_text
from test_cli import cli, strict_json

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
COVER = "https://images.example.com/cover.jpg"


@pytest.fixture
def media(sandbox, tmp_path):
    """``media.run(action, inputs, *flags, cwd=...)``: (exit code, JSON output, stderr) of the CLI on the
    sandbox, from ``tmp_path/work`` by default; ``media.board``, ``media.work``."""
    pytest.importorskip("modulex_pinterest.sandbox.media", reason="the sandbox has no media support")
    work = tmp_path / "work"
    work.mkdir()

    def run(action, inputs, *flags, cwd=None):
        result = cli(
            "run", action, "--input", json.dumps(inputs), "--base-url", sandbox.base_url, *flags,
            token=sandbox.access_token, cwd=cwd or work,
        )  # fmt: skip
        output = strict_json(result.stdout) if result.stdout else None
        return result.returncode, output, result.stderr

    return SimpleNamespace(run=run, board=sandbox.boards[0]["id"], work=work)


@pytest.fixture
def video_server():
    """A loopback HTTP server serving ``/clip.mp4``; ``.url`` and ``.hits`` (the requests it got)."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(MP4)))
            self.end_headers()
            self.wfile.write(MP4)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_port}/clip.mp4", hits=hits)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_png_a_carousel_and_a_64_mb_video_from_the_cli_all_appear_in_list_pins(media):
    (media.work / "chart.png").write_bytes(PNG)
    with open(media.work / "clip.mp4", "wb") as f:
        f.write(MP4)
        f.truncate(64 * 1024 * 1024)  # sparse: quick to make
    code, png, _ = media.run(
        "create_pin_from_file", {"board_id": media.board, "title": "A PNG", "file_path": "chart.png"}
    )
    assert code == 0 and png["success"], png
    urls = [f"https://images.example.com/tart-{n}.jpg" for n in range(3)]
    code, carousel, _ = media.run(
        "create_carousel_pin", {"board_id": media.board, "title": "Three", "image_urls": urls}
    )
    assert code == 0 and carousel["success"], carousel
    video_in = {"board_id": media.board, "title": "A video", "video_path": "clip.mp4", "cover_image_url": COVER}
    code, video, stderr = media.run("create_video_pin", video_in, "--progress")
    assert code == 0 and video["success"] and video["media_status"] == "succeeded", (video, stderr)
    lines = stderr.splitlines()
    uploads = [line for line in lines if ": uploading: " in line]
    assert uploads[-1] == "modulex-pinterest: uploading: 64.0 of 64.0 MB (100%)", lines
    assert 2 <= len(uploads) <= 21  # the first, the last, at most one per 5 % between
    assert f"modulex-pinterest: processing media {video['media_id']}: succeeded" in lines
    code, listed, _ = media.run("list_pins", {"board_id": media.board, "fetch_all": True})
    by_id = {pin["id"]: pin for pin in listed["pins"]}
    assert {png["id"], carousel["id"], video["id"]} <= set(by_id)
    assert by_id[carousel["id"]]["media"]["media_type"] == "multiple_images"
    assert by_id[video["id"]]["media"]["media_type"] == "video"


def test_refused_before_anything_is_sent_or_fetched(media, sandbox, tmp_path, video_server):
    (tmp_path / "secret.png").write_bytes(PNG)
    before = len(sandbox.exchanges)
    refusals = {
        "a path outside the allowed directories": (
            "create_pin_from_file",
            {"board_id": media.board, "title": "t", "file_path": "../secret.png"},
            "'file_path'",
        ),
        "an absolute one": (
            "create_pin_from_file",
            {"board_id": media.board, "title": "t", "file_path": str(tmp_path / "secret.png")},
            "'file_path'",
        ),
        "a carousel of 6": (
            "create_carousel_pin",
            {"board_id": media.board, "title": "t", "image_urls": [f"https://e.com/{n}.jpg" for n in range(6)]},
            "'image_urls'",
        ),
        "a loopback video_url": (
            "create_video_pin",
            {"board_id": media.board, "title": "t", "video_url": video_server.url, "cover_image_url": COVER},
            "allow others with --allow-private-network",  # the flag's name, not the setting's
        ),
    }
    for what, (action, inputs, named) in refusals.items():
        code, output, _ = media.run(action, inputs)
        assert code == 1 and output["success"] is False and named in output["error"], (what, output)
    assert len(sandbox.exchanges) == before and video_server.hits == []


def test_allow_private_network_lets_a_loopback_video_url_be_fetched(media, video_server):
    inputs = {"board_id": media.board, "title": "From a URL", "video_url": video_server.url, "cover_image_url": COVER}
    code, video, stderr = media.run("create_video_pin", inputs, "--allow-private-network")
    assert code == 0 and video["success"], (video, stderr)
    assert video_server.hits == ["/clip.mp4"]


def test_allow_path_adds_a_directory_and_must_name_one(media, tmp_path):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    (pictures / "pin.png").write_bytes(PNG)
    inputs = {"board_id": media.board, "title": "t", "file_path": str(pictures / "pin.png")}
    code, refused, _ = media.run("create_pin_from_file", inputs)
    assert code == 1 and "'file_path'" in refused["error"]
    code, made, _ = media.run("create_pin_from_file", inputs, "--allow-path", str(pictures))
    assert code == 0 and made["success"], made
    code, output, stderr = media.run("create_pin_from_file", inputs, "--allow-path", str(tmp_path / "nowhere"))
    assert code == 2 and output is None and "--allow-path: not a directory" in stderr


def test_progress_words_and_the_upload_throttle():
    assert progress_text({"event": "upload", "bytes": 13107200, "total": 67108864}) == (
        "uploading: 12.5 of 64.0 MB (19%)"
    )
    assert progress_text({"event": "processing", "media_id": "123", "status": "processing"}) == (
        "processing media 123: processing"
    )
    now = [0.0]
    throttle = UploadThrottle(clock=lambda: now[0])
    shown = []
    for step in range(1, 51):  # an event per 2 %, 0.1 s apart
        now[0] = step * 0.1
        if throttle.wanted({"event": "upload", "bytes": step * 2, "total": 100}):
            shown.append(step * 2)
    assert shown == [2, 22, 42, 62, 82, 100]  # the first, then 1 s (and 5 %) apart, and the last
    assert throttle.wanted({"event": "processing"})


def test_mcp_progress_grows_and_counts_bytes_with_a_total_during_an_upload():
    sent = []
    anyio = SimpleNamespace(from_thread=SimpleNamespace(run=lambda send, *args: sent.append(args)))
    report = _reporter(anyio, None)
    report({"event": "wait", "seconds": 1})
    report({"event": "upload", "bytes": 50, "total": 100})
    report({"event": "upload", "bytes": 100, "total": 100})
    report({"event": "processing", "media_id": "7", "status": "succeeded"})
    assert [(progress, total) for progress, total, _ in sent] == [(1, None), (51, 101), (101, 101), (102, None)]
    assert sent[-1][2] == "processing media 7: succeeded"
