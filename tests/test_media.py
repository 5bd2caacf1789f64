"""The media actions (issue 14): pins from local files and base64 data, carousels, video pins.

Against scripted loopback servers: the API on a ScriptedServer (its /v5
requests are checked against Pinterest's OpenAPI description by the
``server`` fixture), the storage upload endpoint on the same server or on a
sink of this file's own. The rules under test: local files only under the
host's file_roots (resolved first), downloads refused on non-public
addresses unless allow_private_network, content checked by magic bytes and
the manifest's limits before anything is sent, the upload streamed in
bounded memory with its signed fields kept secret, processing bounded by the
deadline (the media_id returned to finish later), and no pin after a failed
upload.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from modulex_pinterest.plugin.actions import upload
from modulex_pinterest.plugin.spec import manifest
from modulex_pinterest.plugin.transport.netguard import non_public_reason
from scripted_server import Reply

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4096)
BOARD = "549755885175"
SIGNATURE = "f00dcafe5157a7e5ecre7516nature0123456789abcdef"
POLICY = "eyJleHBpcmF0aW9uIjoiU0VDUkVULVBPTElDWSJ9"
SECURITY_TOKEN = "IQoJb3JpZ2luX2VjSECRETSESSIONTOKEN=="
PIN = {"id": "813744226420795884", "title": "t", "board_id": BOARD, "created_at": "2026-11-01T10:00:00Z"}


def _fields():
    return {
        "key": "uploads/11/aa/22/3:video:1",
        "policy": POLICY,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "ASIA6QZJ64OPIKV7FRVX/20260127/us-east-1/s3/aws4_request",
        "x-amz-date": "20260127T185143Z",
        "x-amz-security-token": SECURITY_TOKEN,
        "x-amz-signature": SIGNATURE,
        "Content-Type": "multipart/form-data",
    }


def _origin(base_url):
    return base_url.rsplit("/v5", 1)[0]


class MediaApi:
    """A scripted Pinterest for the upload flow: statuses to give in turn, where the upload goes, what it answers."""

    def __init__(self, server, statuses=("succeeded",), upload_url=None, upload_reply=None):
        self.server = server
        self.statuses = list(statuses)
        self.upload_url = upload_url or _origin(server.base_url) + "/upload"
        self.upload_reply = upload_reply or Reply(204, b"")
        server.respond = self

    def __call__(self, recorded):
        if recorded.method == "POST" and recorded.path == "/v5/media":
            body = {"media_id": "4242", "media_type": "video", "upload_url": self.upload_url}
            return Reply(201, dict(body, upload_parameters=_fields()))
        if recorded.method == "POST" and recorded.path == "/upload":
            return self.upload_reply
        if recorded.method == "GET" and recorded.path.startswith("/v5/media/"):
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return Reply(200, {"media_id": recorded.path.rsplit("/", 1)[1], "media_type": "video", "status": status})
        if recorded.method == "POST" and recorded.path == "/v5/pins":
            return Reply(201, PIN)
        if recorded.method == "GET" and recorded.path.endswith("/pins"):
            return Reply(200, {"items": [], "bookmark": None})
        if recorded.method == "GET" and recorded.path.endswith(".mp4"):
            return Reply(200, MP4, {"Content-Type": "video/mp4"})
        return Reply(404, {"code": 404, "message": "not scripted"})


def _posted(server, path):
    return [r for r in server.requests if r.method == "POST" and r.path == path]


def _multipart_names(request):
    """The part names of a multipart body, in order."""
    boundary = request.headers["Content-Type"].split("boundary=", 1)[1].encode()
    names = []
    for part in request.body.split(b"--" + boundary)[1:-1]:
        head = part.split(b"\r\n\r\n", 1)[0].decode()
        names.append(head.split('name="', 1)[1].split('"', 1)[0])
    return names


@pytest.fixture
def roots(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "pin.png").write_bytes(PNG)
    (allowed / "pin.jpg").write_bytes(JPEG)
    (allowed / "clip.mp4").write_bytes(MP4)
    (tmp_path / "secret.png").write_bytes(PNG)
    return allowed


# ----- create_pin_from_file ------------------------------------------------


def test_a_png_file_under_the_roots_becomes_an_image_base64_pin(server, run, roots, contract):
    server.respond = MediaApi(server)
    out = run(
        "create_pin_from_file",
        {"board_id": BOARD, "title": "A chart", "file_path": str(roots / "pin.png"), "alt_text": "a chart"},
        server.base_url,
        file_roots=[str(roots)],
    )
    assert out["success"] and out["id"] == PIN["id"], out
    (sent,) = _posted(server, "/v5/pins")
    assert sent.json["media_source"] == {
        "source_type": "image_base64",
        "content_type": "image/png",
        "data": base64.b64encode(PNG).decode(),
    }
    assert sent.json["alt_text"] == "a chart" and sent.json["board_id"] == BOARD
    if contract is not None:
        contract.check_request(sent.method, sent.path, sent.query, sent.headers, sent.body)


def test_base64_image_data_is_sent_as_given_and_its_type_must_match(server, run):
    server.respond = MediaApi(server)
    data = base64.b64encode(JPEG).decode()
    inputs = {"board_id": BOARD, "title": "t", "image_base64": data, "content_type": "image/jpeg"}
    out = run("create_pin_from_file", inputs, server.base_url)
    assert out["success"], out
    assert _posted(server, "/v5/pins")[0].json["media_source"]["data"] == data
    server.requests.clear()
    wrong = run("create_pin_from_file", dict(inputs, content_type="image/png"), server.base_url)
    assert not wrong["success"] and "'content_type' says image/png" in wrong["error"]
    no_type = run("create_pin_from_file", {k: v for k, v in inputs.items() if k != "content_type"}, server.base_url)
    assert "'content_type' is required" in no_type["error"]
    assert server.requests == []


@pytest.mark.parametrize(
    "make_path, expected",
    [
        (lambda roots: str(roots.parent / "secret.png"), "outside the directories this host allows"),
        (lambda roots: str(roots / ".." / "secret.png"), "outside the directories this host allows"),
        (lambda roots: str(roots / "escape.png"), "outside the directories this host allows"),
        (lambda roots: str(roots / "missing.png"), "no such file"),
    ],
    ids=["outside", "dot-dot", "symlink-escaping", "missing"],
)
def test_paths_are_resolved_then_refused_outside_the_roots_before_anything_is_sent(
    server, run, roots, make_path, expected
):
    (roots / "escape.png").symlink_to(roots.parent / "secret.png")
    out = run(
        "create_pin_from_file",
        {"board_id": BOARD, "title": "t", "file_path": make_path(roots)},
        server.base_url,
        file_roots=[str(roots)],
    )
    assert not out["success"] and "'file_path'" in out["error"] and expected in out["error"], out
    assert server.requests == []


def test_without_file_roots_every_path_is_refused(server, run, roots):
    out = run(
        "create_pin_from_file", {"board_id": BOARD, "title": "t", "file_path": str(roots / "pin.png")}, server.base_url
    )
    assert "allows no local files" in out["error"] and server.requests == []


def test_a_symlink_inside_the_roots_to_a_file_inside_them_is_fine(server, run, roots):
    server.respond = MediaApi(server)
    (roots / "link.png").symlink_to(roots / "pin.png")
    inputs = {"board_id": BOARD, "title": "t", "file_path": str(roots / "link.png")}
    assert run("create_pin_from_file", inputs, server.base_url, file_roots=[str(roots)])["success"]


@pytest.mark.parametrize(
    "content, field_error",
    [(b"GIF89a" + bytes(64), "is not a JPEG or PNG image"), (b"", "is not a JPEG or PNG image")],
)
def test_wrong_magic_bytes_are_refused_naming_the_field(server, run, roots, content, field_error):
    (roots / "fake.png").write_bytes(content)
    inputs = {"board_id": BOARD, "title": "t", "file_path": str(roots / "fake.png")}
    out = run("create_pin_from_file", inputs, server.base_url, file_roots=[str(roots)])
    assert out["error"].startswith("Invalid input: 'file_path'") and field_error in out["error"]
    assert server.requests == []


def test_an_image_over_the_manifest_limit_is_refused(server, run, roots):
    limit = manifest.raw_manifest()["media_limits"]["image"]["max_bytes"]
    big = roots / "big.png"
    with open(big, "wb") as f:
        f.write(PNG)
        f.truncate(limit + 1)
    out = run("create_pin_from_file", {"board_id": BOARD, "title": "t", "file_path": str(big)}, server.base_url,
              file_roots=[str(roots)])  # fmt: skip
    assert "over Pinterest's 20 MB limit" in out["error"] and server.requests == []


@pytest.mark.parametrize("bad", ["x", 3, [1], ["/nonexistent-dir-for-test"]])
def test_a_bad_file_roots_setting_is_an_invalid_settings_error(server, run, bad):
    out = run("create_pin_from_file", {"board_id": BOARD, "title": "t", "image_base64": "AAAA"}, server.base_url,
              file_roots=bad)  # fmt: skip
    assert out["error"].startswith("Invalid settings: setting 'file_roots'"), out


def test_a_bad_allow_private_network_setting_is_an_invalid_settings_error(server, run):
    out = run("create_pin_from_file", {"board_id": BOARD, "title": "t", "image_base64": "AAAA"}, server.base_url,
              allow_private_network="yes")  # fmt: skip
    assert out["error"] == "Invalid settings: setting 'allow_private_network' must be true or false"


# ----- create_carousel_pin -------------------------------------------------


def test_a_carousel_of_urls_and_one_of_files(server, run, roots, contract):
    server.respond = MediaApi(server)
    urls = [f"https://images.example.com/{n}.jpg" for n in range(3)]
    out = run("create_carousel_pin", {"board_id": BOARD, "title": "t", "image_urls": urls}, server.base_url)
    assert out["success"], out
    items = [{"file_path": str(roots / "pin.png"), "title": "one"}, {"file_path": str(roots / "pin.jpg")}]
    out = run("create_carousel_pin", {"board_id": BOARD, "title": "t", "items": items}, server.base_url,
              file_roots=[str(roots)])  # fmt: skip
    assert out["success"], out
    by_url, by_file = _posted(server, "/v5/pins")
    assert by_url.json["media_source"] == {"source_type": "multiple_image_urls", "items": [{"url": u} for u in urls]}
    source = by_file.json["media_source"]
    assert source["source_type"] == "multiple_image_base64"
    assert [i["content_type"] for i in source["items"]] == ["image/png", "image/jpeg"]
    assert source["items"][0]["title"] == "one"
    if contract is not None:
        for sent in (by_url, by_file):
            contract.check_request(sent.method, sent.path, sent.query, sent.headers, sent.body)


@pytest.mark.parametrize("count", [1, 6])
def test_too_few_or_too_many_carousel_images_are_refused(server, run, count):
    urls = [f"https://images.example.com/{n}.jpg" for n in range(count)]
    out = run("create_carousel_pin", {"board_id": BOARD, "title": "t", "image_urls": urls}, server.base_url)
    assert not out["success"] and "'image_urls'" in out["error"], out
    assert server.requests == []


def test_carousel_items_mixing_urls_and_files_are_refused(server, run, roots):
    items = [{"url": "https://images.example.com/a.jpg"}, {"file_path": str(roots / "pin.png")}]
    out = run("create_carousel_pin", {"board_id": BOARD, "title": "t", "items": items}, server.base_url,
              file_roots=[str(roots)])  # fmt: skip
    assert "exactly one of 'url' or 'file_path'" in out["error"] and server.requests == []


def test_the_carousel_limits_of_the_schema_are_the_manifests():
    limits = manifest.raw_manifest()["media_limits"]["carousel"]
    schema = manifest.load_schema("schemas/create_carousel_pin.input.json")["properties"]
    for field in ("image_urls", "items"):
        assert (schema[field]["minItems"], schema[field]["maxItems"]) == (limits["min_items"], limits["max_items"])


# ----- create_video_pin ----------------------------------------------------


def test_a_video_pin_from_a_local_file_registers_uploads_waits_and_creates(server, run, roots, host, monkeypatch):
    monkeypatch.setattr(upload, "POLL_FIRST", 0.01)
    MediaApi(server, statuses=("registered", "processing", "succeeded"))
    events = []
    out = host.run(
        "pinterest",
        "create_video_pin",
        {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4"), "cover_key_frame_time": 2},
        {"access_token": "pina_TEST"},
        {"base_url": server.base_url, "file_roots": [str(roots)]},
        progress=events.append,
    )
    assert out["success"] and out["media_id"] == "4242" and out["media_status"] == "succeeded", out
    (registered,) = _posted(server, "/v5/media")
    assert registered.json == {"media_type": "video"}
    (stored,) = _posted(server, "/upload")
    assert "Authorization" not in stored.headers and int(stored.headers["Content-Length"]) == len(stored.body)
    assert _multipart_names(stored) == [*_fields(), "file"]  # every signed field first, the file last
    assert MP4 in stored.body
    (pin,) = _posted(server, "/v5/pins")
    assert pin.json["media_source"] == {"source_type": "video_id", "media_id": "4242", "cover_image_key_frame_time": 2}
    assert {"event": "upload", "bytes": len(MP4), "total": len(MP4)} in events
    statuses = [e["status"] for e in events if e["event"] == "processing"]
    assert statuses == ["registered", "processing", "succeeded"]


def test_a_non_video_file_is_refused_before_anything_is_sent(server, run, roots):
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(roots / "pin.png"), "cover_key_frame_time": 0}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)])
    assert out["error"].startswith("Invalid input: 'video_path' is not an MP4 or MOV video"), out
    assert server.requests == []


def test_a_cover_is_required_and_only_one_video_source(server, run, roots):
    base = {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4")}
    no_cover = run("create_video_pin", base, server.base_url, file_roots=[str(roots)])
    assert "one of 'cover_image_url', 'cover_image_path', 'cover_key_frame_time' is required" in no_cover["error"]
    two = run("create_video_pin", dict(base, media_id="1", cover_key_frame_time=0), server.base_url)
    assert "give only one of 'video_path', 'video_url', 'media_id'" in two["error"]
    assert server.requests == []


def test_a_cover_image_file_goes_as_base64(server, run, roots, monkeypatch):
    MediaApi(server)
    inputs = {"board_id": BOARD, "title": "t", "media_id": "77", "cover_image_path": str(roots / "pin.jpg")}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)])
    assert out["success"], out
    source = _posted(server, "/v5/pins")[0].json["media_source"]
    assert source["cover_image_content_type"] == "image/jpeg"
    assert base64.b64decode(source["cover_image_data"]) == JPEG


def test_a_loopback_video_url_is_refused_without_the_setting_and_fetched_with_it(server, run):
    MediaApi(server)
    inputs = {
        "board_id": BOARD,
        "title": "t",
        "video_url": _origin(server.base_url) + "/clip.mp4",
        "cover_image_url": "https://images.example.com/cover.jpg",
    }
    refused = run("create_video_pin", inputs, server.base_url)
    assert not refused["success"] and "'video_url' was refused" in refused["error"], refused
    assert "127.0.0.1, a loopback address" in refused["error"] and "allow_private_network" in refused["error"]
    assert server.requests == []  # refused at connect time: not a byte of the request was sent
    fetched = run("create_video_pin", inputs, server.base_url, allow_private_network=True)
    assert fetched["success"], fetched
    assert [(r.method, r.path) for r in server.requests][:3] == [
        ("GET", "/clip.mp4"),
        ("POST", "/v5/media"),
        ("POST", "/upload"),
    ]
    assert "Authorization" not in server.requests[0].headers
    assert MP4 in _posted(server, "/upload")[0].body


def test_a_redirect_to_a_private_address_is_refused_on_the_hop(server, run, monkeypatch):
    """Each connection is checked on the address it reached, redirects included: a public-looking
    first hop is simulated by letting the guard pass once, then the redirect's connection is refused."""
    from modulex_pinterest.plugin.transport import netguard

    calls = []

    def reason(address):
        calls.append(address)
        return None if len(calls) == 1 else non_public_reason(address)

    monkeypatch.setattr(netguard, "non_public_reason", reason)
    api = MediaApi(server)
    first = Reply(302, b"", {"Location": _origin(server.base_url) + "/clip.mp4", "Connection": "close"})
    server.script(first)
    inputs = {
        "board_id": BOARD,
        "title": "t",
        "video_url": _origin(server.base_url) + "/start.mp4",
        "cover_key_frame_time": 0,
    }
    out = run("create_video_pin", inputs, server.base_url)
    assert "'video_url' was refused" in out["error"] and len(calls) == 2, out
    assert [r.path for r in server.requests] == ["/start.mp4"] and api is not None


def test_non_public_addresses():
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "100.64.0.1", "::1", "fe80::1",
                    "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1", "fc00::1"):  # fmt: skip
        assert non_public_reason(address) is not None, address
    for address in ("93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"):
        assert non_public_reason(address) is None, address


def test_processing_failure_creates_no_pin_and_returns_the_media_id(server, run, roots, monkeypatch):
    monkeypatch.setattr(upload, "POLL_FIRST", 0.01)
    MediaApi(server, statuses=("processing", "failed"))
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4"), "cover_key_frame_time": 1}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)])
    assert not out["success"] and out["media_id"] == "4242" and out["media_status"] == "failed", out
    assert "could not process the video" in out["error"] and _posted(server, "/v5/pins") == []


def test_processing_past_the_deadline_returns_the_media_id_and_a_second_run_finishes(server, run, roots, monkeypatch):
    monkeypatch.setattr(upload, "POLL_FIRST", 0.1)
    monkeypatch.setattr(upload, "CREATE_RESERVE", 0.5)
    api = MediaApi(server, statuses=("processing",))
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4"), "cover_key_frame_time": 1}
    first = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)], deadline=1.5)
    assert not first["success"] and first["media_id"] == "4242" and first["media_status"] == "processing", first
    assert "Run create_video_pin again with media_id 4242" in first["error"]
    assert _posted(server, "/v5/pins") == []
    server.requests.clear()
    api.statuses = ["succeeded"]
    again = {"board_id": BOARD, "title": "t", "media_id": first["media_id"], "cover_key_frame_time": 1}
    second = run("create_video_pin", again, server.base_url)
    assert second["success"] and second["id"] == PIN["id"] and second["media_id"] == "4242", second
    assert _posted(server, "/v5/media") == [] and _posted(server, "/upload") == []  # not uploaded again


def test_the_upload_refused_creates_no_pin_and_never_shows_the_signed_fields(server, run, roots, caplog):
    caplog.set_level("DEBUG")
    echo = f"<Error><Code>AccessDenied</Code><Policy>{POLICY}</Policy><Sig>{SIGNATURE}</Sig></Error>"
    MediaApi(server, upload_reply=Reply(403, echo, {"Content-Type": "application/xml"}))
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4"), "cover_key_frame_time": 1}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)])
    assert not out["success"] and out["error"].startswith("While uploading the video:"), out
    assert "HTTP 403" in out["error"] and "no pin was created" in out["error"]
    assert "may or may not have been created" not in out["error"]
    assert out["media_id"] == "4242" and _posted(server, "/v5/pins") == []
    shown = json.dumps(out) + "\n".join(record.getMessage() for record in caplog.records)
    for secret in (SIGNATURE, POLICY, SECURITY_TOKEN):
        assert secret not in shown


class _BreakingSink:
    """An upload endpoint that reads part of the body, then resets the connection."""

    def __init__(self, keep=64 * 1024):
        self.keep = keep
        self.received = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/upload"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.listener.accept()
        while self.received < self.keep and (piece := conn.recv(65536)):
            self.received += len(piece)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()  # a reset, midway


def test_an_upload_that_breaks_midway_is_a_clear_error_and_creates_no_pin(server, run, roots):
    big = roots / "big.mp4"
    with open(big, "wb") as f:
        f.write(MP4)
        f.truncate(8 * 1024 * 1024)
    sink = _BreakingSink()
    MediaApi(server, upload_url=sink.url)
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(big), "cover_key_frame_time": 1}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)], max_retries=0)
    assert not out["success"] and out["error"].startswith("While uploading the video:"), out
    assert "broke off" in out["error"] and "no pin was created" in out["error"]
    assert out["media_id"] == "4242" and _posted(server, "/v5/pins") == []
    assert SIGNATURE not in out["error"]


def test_an_http_upload_url_off_loopback_is_refused(server, run, roots):
    MediaApi(server, upload_url="http://uploads.example.com/")
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4"), "cover_key_frame_time": 1}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)])
    assert "'upload_url' is not https" in out["error"] and _posted(server, "/v5/pins") == []


def test_the_create_step_after_an_upload_follows_create_pins_rules(server, run, roots):
    """A 500 on POST /pins: not resent, and the error says the pin may exist (and gives the media_id)."""
    api = MediaApi(server)

    def answer(recorded):
        if recorded.path == "/v5/pins":
            return Reply(500, {"code": 1, "message": "boom"})
        return api(recorded)

    server.respond = answer
    inputs = {"board_id": BOARD, "title": "t", "video_path": str(roots / "clip.mp4"), "cover_key_frame_time": 1}
    out = run("create_video_pin", inputs, server.base_url, file_roots=[str(roots)])
    assert "may or may not have been created" in out["error"] and out["media_id"] == "4242", out
    assert len(_posted(server, "/v5/pins")) == 1


# ----- bounded memory ------------------------------------------------------


class _Sink(BaseHTTPRequestHandler):
    """An upload endpoint that reads and discards the body, counting it."""

    protocol_version = "HTTP/1.1"
    received = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        left = int(self.headers["Content-Length"])
        total = 0
        while left:
            piece = self.rfile.read(min(left, 1 << 20))
            if not piece:
                break
            total += len(piece)
            left -= len(piece)
        _Sink.received.append(total)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from modulex_pinterest.host import Host
    host = Host()
    base_url, path, small, root = sys.argv[1:5]
    inputs = {"board_id": "1", "title": "t", "cover_key_frame_time": 1}
    settings = {"base_url": base_url, "file_roots": [root], "deadline": 300}
    creds = {"access_token": "pina_TEST"}
    warm = host.run("pinterest", "create_video_pin", dict(inputs, video_path=small), creds, settings)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = host.run("pinterest", "create_video_pin", dict(inputs, video_path=path), creds, settings)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"warm": warm["success"], "out": out, "growth_kb": after - before}))
    """
)


def test_a_200_mb_upload_raises_peak_memory_by_less_than_50_mb(server, roots):
    size = 200 * 1024 * 1024
    big = roots / "big.mp4"
    with open(big, "wb") as f:  # sparse: made in no time
        f.write(MP4)
        f.truncate(size)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    _Sink.received.clear()
    try:
        MediaApi(server, upload_url=f"http://127.0.0.1:{sink.server_address[1]}/upload")
        answer = subprocess.run(
            [sys.executable, "-c", CHILD, server.base_url, str(big), str(roots / "clip.mp4"), str(roots)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=os.path.dirname(sys.executable),
        )
    finally:
        sink.shutdown()
        sink.server_close()
    assert answer.returncode == 0, answer.stderr[-2000:]
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    assert result["warm"] and result["out"]["success"], result
    assert max(_Sink.received) > size  # the whole file (plus the fields) arrived
    assert result["growth_kb"] < 50 * 1024, result


# ----- end to end on the sandbox --------------------------------------------


def test_on_the_sandbox_a_png_a_carousel_and_a_64_mb_video_all_appear_in_list_pins(sandbox, run, roots):
    pytest.importorskip("modulex_pinterest.sandbox.media", reason="the sandbox has no media support yet")
    big = roots / "video.mp4"
    with open(big, "wb") as f:
        f.write(MP4)
        f.truncate(64 * 1024 * 1024)
    board = sandbox.boards[0]["id"]
    settings = {"file_roots": [str(roots)], "token": sandbox.access_token}
    png = run("create_pin_from_file", {"board_id": board, "title": "From a PNG", "file_path": str(roots / "pin.png")},
              sandbox.base_url, **settings)  # fmt: skip
    urls = [f"https://images.example.com/tart-{n}.jpg" for n in range(3)]
    carousel = run("create_carousel_pin", {"board_id": board, "title": "A carousel", "image_urls": urls},
                   sandbox.base_url, **settings)  # fmt: skip
    video = run(
        "create_video_pin",
        {"board_id": board, "title": "A video", "video_path": str(big),
         "cover_image_url": "https://images.example.com/cover.jpg"},
        sandbox.base_url,
        **settings,
    )  # fmt: skip
    assert png["success"] and carousel["success"] and video["success"], (png, carousel, video)
    assert video["media_status"] == "succeeded"
    listed = run("list_pins", {"board_id": board, "fetch_all": True}, sandbox.base_url, token=sandbox.access_token)
    by_id = {pin["id"]: pin for pin in listed["pins"]}
    assert {png["id"], carousel["id"], video["id"]} <= set(by_id)
    assert by_id[video["id"]]["media"]["media_type"] == "video"
    assert by_id[carousel["id"]]["media"]["media_type"] == "multiple_images"


def test_an_unknown_media_id_says_so_and_creates_no_pin(server, run):
    server.respond = lambda recorded: Reply(404, {"code": 404, "message": "Media not found."})
    out = run("create_video_pin", {"board_id": BOARD, "title": "t", "media_id": "999", "cover_key_frame_time": 0},
              server.base_url)  # fmt: skip
    assert out["error"].startswith("While checking the video's processing: Media upload 999 not found"), out
    assert out["media_id"] == "999" and _posted(server, "/v5/pins") == []
