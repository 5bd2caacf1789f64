"""The sandbox's media upload flow and every media_source type of POST /v5/pins,
with plain ``requests`` (no plugin code).

Tests on the ``sandbox`` fixture have every /v5 exchange checked against
Pinterest's OpenAPI afterwards (conftest); the upload endpoint stands in for S3
and is outside /v5, so it is not. Requests the spec itself forbids (bad base64,
1 or 6 carousel items) are marked ``no_contract``.
"""

from __future__ import annotations

import base64
import socket
from urllib.parse import urlsplit

import pytest
import requests

from modulex_pinterest.sandbox import Sandbox

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4000
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 1000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
SPEC_UPLOAD_FIELDS = {
    "Content-Type",
    "key",
    "policy",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-signature",
}
COVER = "https://images.example.com/cover.jpg"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def slow(contract):
    """A sandbox whose processing lasts long enough to be seen (ended by finish_media_processing)."""
    with Sandbox(media_processing_seconds=30) as sb:
        yield sb
        exchanges = sb.exchanges
    for exchange in exchanges:
        if contract is not None and exchange.path.startswith("/v5/"):
            contract.check_exchange(exchange)


def register(sb, session) -> dict:
    response = session.post(f"{sb.base_url}/media", json={"media_type": "video"})
    assert response.status_code == 201, response.text
    return response.json()


def upload(upload_info: dict, content: bytes = MP4, **kw) -> requests.Response:
    """The natural way: every parameter as a field, then the file (requests puts files last)."""
    fields = dict(upload_info["upload_parameters"])
    return requests.post(upload_info["upload_url"], data=fields, files={"file": ("v.mp4", content)}, timeout=10, **kw)


def form(parts: list[tuple[str, bytes]], boundary: str = "sandboxboundary") -> tuple[bytes, dict[str, str]]:
    """A multipart body with the parts in this order (the file is the part named 'file')."""
    body = b""
    for name, value in parts:
        filename = '; filename="v.mp4"' if name == "file" else ""
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode()
        body += value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def fields_of(upload_info: dict) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in upload_info["upload_parameters"].items()]


def wait_status(sb, session, media_id: str, wanted: str, wait_until) -> dict:
    def current():
        response = session.get(f"{sb.base_url}/media/{media_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["status"] == wanted else None

    return wait_until(current, timeout=5)


def video_ready(sb, session, wait_until, content: bytes = MP4) -> str:
    info = register(sb, session)
    assert upload(info, content).status_code == 204
    wait_status(sb, session, info["media_id"], "succeeded", wait_until)
    return info["media_id"]


def create_pin(sb, session, source: dict, **fields) -> requests.Response:
    body = {"board_id": sb.boards[0]["id"], "title": "Media test", "media_source": source, **fields}
    return session.post(f"{sb.base_url}/pins", json=body)


def board_pins(sb, session) -> list[dict]:
    response = session.get(f"{sb.base_url}/boards/{sb.boards[0]['id']}/pins", params={"page_size": 250})
    assert response.status_code == 200
    return response.json()["items"]


def assert_s3_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert f"<Code>{code}</Code>" in response.text


# ----- the upload flow --------------------------------------------------------


def test_register_answers_a_presigned_post_on_the_sandbox(sandbox, http):
    info = register(sandbox, http)
    assert info["media_type"] == "video" and info["media_id"].isdigit()
    assert info["upload_url"] == sandbox.upload_url
    url = urlsplit(info["upload_url"])
    assert url.hostname == "127.0.0.1" and url.port == sandbox.port and not url.path.startswith("/v5")
    params = info["upload_parameters"]
    assert set(params) == SPEC_UPLOAD_FIELDS
    assert params["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and len(params["x-amz-signature"]) == 64
    got = http.get(f"{sandbox.base_url}/media/{info['media_id']}").json()
    assert got == {"media_id": info["media_id"], "media_type": "video", "status": "registered"}


def test_whole_flow_to_a_video_pin(sandbox, http, wait_until):
    info = register(sandbox, http)
    response = upload(info)
    assert response.status_code == 204 and response.content == b""
    assert "Content-Length" not in response.headers
    media = sandbox.media(info["media_id"])
    assert media["size"] == len(MP4) and media["detected_type"] == "video/mp4"
    assert media["field_names"][-1] == "file" and set(media["field_names"][:-1]) == SPEC_UPLOAD_FIELDS
    wait_status(sandbox, http, info["media_id"], "succeeded", wait_until)
    response = create_pin(
        sandbox, http, {"source_type": "video_id", "media_id": info["media_id"], "cover_image_url": COVER}
    )
    assert response.status_code == 201, response.text
    pin = response.json()
    assert pin["creative_type"] == "VIDEO"
    assert pin["media"]["media_type"] == "video" and pin["media"]["cover_image_url"] == COVER
    assert pin["media"]["width"] == 1080 and pin["media"]["height"] == 1920 and pin["media"]["duration"] >= 1000
    assert pin["id"] in [p["id"] for p in board_pins(sandbox, http)]
    assert http.get(f"{sandbox.base_url}/boards").status_code == 200  # thumbnails of a video pin


def test_status_goes_registered_processing_succeeded(slow):
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {slow.access_token}"
        info = register(slow, session)
        media_id = info["media_id"]
        status = lambda: session.get(f"{slow.base_url}/media/{media_id}").json()["status"]  # noqa: E731
        assert status() == "registered"
        assert upload(info, MOV).status_code == 204
        assert status() == "processing"
        assert slow.media(media_id)["detected_type"] == "video/quicktime"
        source = {"source_type": "video_id", "media_id": media_id}
        response = create_pin(slow, session, source)
        assert response.status_code == 400 and "processing" in response.json()["message"]
        slow.finish_media_processing(media_id)
        assert status() == "succeeded"
        assert create_pin(slow, session, source).status_code == 201


def test_media_list_pages_with_bookmarks_and_is_per_app(sandbox, http):
    ids = [register(sandbox, http)["media_id"] for _ in range(3)]
    sandbox.register_app("1600000", "other-secret")
    sandbox.add_access_token("pina_other_app", app_id="1600000")
    other = {"Authorization": "Bearer pina_other_app"}
    other_id = requests.post(f"{sandbox.base_url}/media", json={"media_type": "video"}, headers=other).json()
    seen, bookmark = [], None
    while True:
        params = {"page_size": 2, **({"bookmark": bookmark} if bookmark else {})}
        page = http.get(f"{sandbox.base_url}/media", params=params).json()
        seen += [m["media_id"] for m in page["items"]]
        bookmark = page["bookmark"]
        if bookmark is None:
            break
    assert seen == ids[::-1]
    response = http.get(f"{sandbox.base_url}/media/{other_id['media_id']}")
    assert response.status_code == 404 and response.json()["code"] == 404
    assert http.get(f"{sandbox.base_url}/media", params={"bookmark": "nope"}).status_code == 400


def test_register_needs_pins_write_and_a_video(sandbox, http):
    sandbox.add_access_token("pina_read_only", scopes=("pins:read",))
    response = requests.post(
        f"{sandbox.base_url}/media", json={"media_type": "video"}, headers={"Authorization": "Bearer pina_read_only"}
    )
    assert response.status_code == 401 and response.json()["code"] == 3


@pytest.mark.no_contract
def test_register_refuses_other_media_types(sandbox, http):
    response = http.post(f"{sandbox.base_url}/media", json={"media_type": "image"})
    assert response.status_code == 400 and "media_type" in response.json()["message"]


# ----- the upload endpoint refuses what S3 refuses ---------------------------


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda f: f.update({"x-amz-signature": "0" * 64}), "SignatureDoesNotMatch"),
        (lambda f: f.update({"key": f["key"] + "x"}), "AccessDenied"),
        (lambda f: f.pop("x-amz-security-token"), "AccessDenied"),
        (lambda f: f.pop("policy"), "AccessDenied"),
        (lambda f: f.update({"acl": "public-read"}), "AccessDenied"),
        (
            lambda f: f.update({"x-amz-credential": "AKIAOTHER/20250101/us-east-1/s3/aws4_request"}),
            "InvalidAccessKeyId",
        ),
    ],
)
def test_a_wrong_or_missing_field_is_403(sandbox, http, change, code):
    info = register(sandbox, http)
    change(info["upload_parameters"])
    assert_s3_error(upload(info), 403, code)
    assert sandbox.media(info["media_id"])["status"] == "registered"


def test_a_field_after_the_file_counts_as_missing(sandbox, http):
    info = register(sandbox, http)
    parts = fields_of(info)
    token = next(p for p in parts if p[0] == "x-amz-security-token")
    parts.remove(token)
    body, headers = form([*parts, ("file", MP4), token])
    assert_s3_error(requests.post(info["upload_url"], data=body, headers=headers, timeout=10), 403, "AccessDenied")


def test_missing_file_is_400_and_other_shapes_are_refused(sandbox, http):
    info = register(sandbox, http)
    body, headers = form(fields_of(info))
    assert_s3_error(requests.post(info["upload_url"], data=body, headers=headers, timeout=10), 400, "InvalidArgument")
    response = requests.post(info["upload_url"], data=b"file=x", timeout=10)  # not multipart
    assert_s3_error(response, 400, "PreconditionFailed")
    chunked = requests.post(info["upload_url"], data=iter([body]), headers=headers, timeout=10)
    assert_s3_error(chunked, 411, "MissingContentLength")
    assert_s3_error(requests.get(info["upload_url"], timeout=10), 405, "MethodNotAllowed")
    body, headers = form([*fields_of(info), ("file", b"")])
    assert_s3_error(requests.post(info["upload_url"], data=body, headers=headers, timeout=10), 400, "EntityTooSmall")
    assert sandbox.media(info["media_id"])["status"] == "registered"


def test_non_video_bytes_fail_processing(sandbox, http, wait_until):
    info = register(sandbox, http)
    assert upload(info, PNG).status_code == 204
    assert sandbox.media(info["media_id"])["detected_type"] == "image/png"
    wait_status(sandbox, http, info["media_id"], "failed", wait_until)
    response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": info["media_id"]})
    assert response.status_code == 400 and "failed" in response.json()["message"]


# ----- faults -------------------------------------------------------------------


def test_processing_failed_and_slow_faults(slow):
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {slow.access_token}"
        slow.media_store.processing_seconds = 0
        slow.inject_fault("processing_failed")
        failed = register(slow, session)  # POST /v5/media does not use up an upload fault
        assert upload(failed).status_code == 204
        assert session.get(f"{slow.base_url}/media/{failed['media_id']}").json()["status"] == "failed"
        slow.inject_fault("processing_slow", delay=600)
        lagging = register(slow, session)
        assert upload(lagging).status_code == 204
        assert session.get(f"{slow.base_url}/media/{lagging['media_id']}").json()["status"] == "processing"
        slow.finish_media_processing(lagging["media_id"])
        assert session.get(f"{slow.base_url}/media/{lagging['media_id']}").json()["status"] == "succeeded"
        assert [e.fault for e in slow.exchanges if e.path == "/media-uploads"] == [
            "processing_failed",
            "processing_slow",
        ]


def test_upload_error_fault_answers_500_midway_then_a_retry_succeeds(sandbox, http, wait_until):
    info = register(sandbox, http)
    sandbox.inject_fault("upload_error", after_bytes=100)
    assert_s3_error(upload(info), 500, "InternalError")
    assert sandbox.media(info["media_id"])["status"] == "registered"
    assert upload(info).status_code == 204
    assert sandbox.media(info["media_id"])["uploads"] == 1
    wait_status(sandbox, http, info["media_id"], "succeeded", wait_until)


def test_upload_drop_fault_closes_without_an_answer(sandbox, http):
    info = register(sandbox, http)
    sandbox.inject_fault("upload_drop", after_bytes=0)
    with pytest.raises(requests.ConnectionError):
        upload(info, MP4 * 200)
    assert sandbox.media(info["media_id"])["status"] == "registered"
    assert [e.status for e in sandbox.exchanges if e.path == "/media-uploads"] == [None]


def test_an_aborted_upload_leaves_the_media_registered(sandbox, http, wait_until):
    info = register(sandbox, http)
    body, headers = form([*fields_of(info), ("file", MP4)])
    head = (
        f"POST /media-uploads HTTP/1.1\r\nHost: 127.0.0.1:{sandbox.port}\r\n"
        f"Content-Type: {headers['Content-Type']}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as sock:
        sock.sendall(head + body[: len(body) - 1000])
    wait_until(lambda: [e for e in sandbox.exchanges if e.path == "/media-uploads"])
    assert [e.status for e in sandbox.exchanges if e.path == "/media-uploads"] == [None]
    assert sandbox.media(info["media_id"])["status"] == "registered"


# ----- media_source types of POST /v5/pins --------------------------------------


@pytest.mark.parametrize("content_type, raw", [("image/png", PNG), ("image/jpeg", JPEG)])
def test_image_base64_pin(sandbox, http, content_type, raw):
    source = {"source_type": "image_base64", "content_type": content_type, "data": b64(raw)}
    response = create_pin(sandbox, http, source, description="From bytes")
    assert response.status_code == 201, response.text
    pin = response.json()
    assert pin["media"]["media_type"] == "image" and set(pin["media"]["images"]) == {
        "150x150",
        "400x300",
        "600x",
        "1200x",
    }
    assert pin["creative_type"] == "REGULAR"
    assert pin["id"] in [p["id"] for p in board_pins(sandbox, http)]


def test_image_base64_refuses_bytes_of_another_type(sandbox, http):
    before = sandbox.pin_count(sandbox.boards[0]["id"])
    response = create_pin(
        sandbox, http, {"source_type": "image_base64", "content_type": "image/png", "data": b64(JPEG)}
    )
    assert response.status_code == 400 and response.json()["code"] == 1
    assert "not a image/png image" in response.json()["message"]
    response = create_pin(sandbox, http, {"source_type": "image_base64", "content_type": "image/png", "data": b64(MP4)})
    assert response.status_code == 400
    assert sandbox.pin_count(sandbox.boards[0]["id"]) == before


@pytest.mark.no_contract
@pytest.mark.parametrize(
    "source, word",
    [
        ({"content_type": "image/png", "data": "data:image/png;base64," + b64(PNG)}, "base64"),
        ({"content_type": "image/png", "data": b64(PNG)[:-1]}, "base64"),
        ({"content_type": "image/png", "data": "iVBO RK=="}, "base64"),
        ({"content_type": "image/gif", "data": b64(PNG)}, "content_type"),
        ({"data": b64(PNG)}, "content_type"),
    ],
)
def test_image_base64_refuses_bad_data(sandbox, http, source, word):
    response = create_pin(sandbox, http, {"source_type": "image_base64", **source})
    assert response.status_code == 400 and word in response.json()["message"]


def test_carousel_of_urls_and_of_base64(sandbox, http):
    items = [
        {"url": f"https://images.example.com/{i}.jpg", "title": f"Slide {i}", "link": "https://www.example.com/s"}
        for i in range(3)
    ]
    response = create_pin(sandbox, http, {"source_type": "multiple_image_urls", "items": items, "index": 0})
    assert response.status_code == 201, response.text
    pin = response.json()
    assert pin["creative_type"] == "CAROUSEL" and pin["media"]["media_type"] == "multiple_images"
    assert [i["title"] for i in pin["media"]["items"]] == ["Slide 0", "Slide 1", "Slide 2"]
    assert (
        pin["media"]["items"][0]["link"] == "https://www.example.com/s"
        and pin["media"]["items"][0]["description"] is None
    )
    assert all(set(i["images"]) == {"150x150", "400x300", "600x", "1200x"} for i in pin["media"]["items"])
    b64_items = [{"content_type": "image/png", "data": b64(PNG)}, {"content_type": "image/jpeg", "data": b64(JPEG)}]
    response = create_pin(sandbox, http, {"source_type": "multiple_image_base64", "items": b64_items})
    assert response.status_code == 201, response.text
    listed = {p["id"]: p for p in board_pins(sandbox, http)}
    assert listed[response.json()["id"]]["media"]["media_type"] == "multiple_images"
    assert listed[pin["id"]]["media"] == pin["media"]
    assert http.get(f"{sandbox.base_url}/boards").status_code == 200  # thumbnails of a carousel


@pytest.mark.no_contract
@pytest.mark.parametrize("count", [1, 6])
@pytest.mark.parametrize("source_type", ["multiple_image_urls", "multiple_image_base64"])
def test_carousel_needs_2_to_5_items(sandbox, http, count, source_type):
    item = {"url": "https://images.example.com/x.jpg"}
    if source_type == "multiple_image_base64":
        item = {"content_type": "image/png", "data": b64(PNG)}
    response = create_pin(sandbox, http, {"source_type": source_type, "items": [item] * count})
    assert response.status_code == 400 and f"{count} given" in response.json()["message"]


def test_carousel_items_are_checked_one_by_one(sandbox, http):
    items = [
        {"url": "https://images.example.com/a.jpg"},
        {"url": "https://images.example.com/b.jpg", "link": "ftp://x"},
    ]
    response = create_pin(sandbox, http, {"source_type": "multiple_image_urls", "items": items})
    assert response.status_code == 400 and "items[1].link" in response.json()["message"]
    items = [{"content_type": "image/png", "data": b64(PNG)}, {"content_type": "image/png", "data": b64(JPEG)}]
    response = create_pin(sandbox, http, {"source_type": "multiple_image_base64", "items": items})
    assert response.status_code == 400 and "items[1].data" in response.json()["message"]


def test_video_pin_covers(sandbox, http, wait_until):
    media_id = video_ready(sandbox, http, wait_until)
    by_data = {"cover_image_content_type": "image/jpeg", "cover_image_data": b64(JPEG)}
    for cover in (by_data, {"cover_image_key_frame_time": 3}, {}):
        response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": media_id, **cover})
        assert response.status_code == 201, response.text
        assert response.json()["media"]["cover_image_url"].startswith("https://i.pinimg.com/")
    both = {"cover_image_url": COVER, "cover_image_key_frame_time": 1}
    response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": media_id, **both})
    assert response.status_code == 400 and "one cover" in response.json()["message"]
    wrong = {"cover_image_content_type": "image/png", "cover_image_data": b64(JPEG)}
    response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": media_id, **wrong})
    assert response.status_code == 400 and "cover_image_data" in response.json()["message"]
    response = create_pin(
        sandbox, http, {"source_type": "video_id", "media_id": media_id, "cover_image_data": b64(JPEG)}
    )
    assert response.status_code == 400 and "cover_image_content_type" in response.json()["message"]


def test_video_id_must_be_the_callers_succeeded_upload(sandbox, http, wait_until):
    registered = register(sandbox, http)["media_id"]
    response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": registered})
    assert response.status_code == 400 and "registered" in response.json()["message"]
    response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": "999"})
    assert response.status_code == 400 and "no media upload 999" in response.json()["message"]
    sandbox.register_app("1600000", "other-secret")
    sandbox.add_access_token("pina_other_app", app_id="1600000")
    with requests.Session() as other:
        other.headers["Authorization"] = "Bearer pina_other_app"
        foreign = video_ready(sandbox, other, wait_until)
    response = create_pin(sandbox, http, {"source_type": "video_id", "media_id": foreign})
    assert response.status_code == 400 and "no media upload" in response.json()["message"]


@pytest.mark.no_contract
def test_unknown_source_types_are_refused(sandbox, http):
    for source_type in ("video_url", "pin_url"):
        response = create_pin(sandbox, http, {"source_type": source_type, "url": "https://e.com/v.mp4"})
        assert response.status_code == 400 and "source_type" in response.json()["message"]


# ----- bounded memory -------------------------------------------------------------


class StreamedBody:
    """A multipart body produced as it is sent: ``len`` gives requests the Content-Length."""

    def __init__(self, head: bytes, chunk: bytes, chunks: int, tail: bytes) -> None:
        self.head, self.chunk, self.chunks, self.tail = head, chunk, chunks, tail

    def __len__(self) -> int:
        return len(self.head) + len(self.chunk) * self.chunks + len(self.tail)

    def __iter__(self):
        yield self.head
        for _ in range(self.chunks):
            yield self.chunk
        yield self.tail


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def test_a_64_mb_upload_keeps_memory_bounded(sandbox, http, wait_until):
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    except OSError:
        pytest.skip("cannot reset the peak RSS (/proc/self/clear_refs) here")
    info = register(sandbox, http)
    body, headers = form([*fields_of(info), ("file", b"@@FILE@@")])
    head, tail = body.split(b"@@FILE@@")
    chunk = MP4[:64] + b"\x00" * (1024 * 1024 - 64)
    rest = b"\x00" * (1024 * 1024)
    stream = StreamedBody(head + chunk, rest, 63, tail)
    before = _peak_rss_kb()
    response = requests.post(info["upload_url"], data=stream, headers=headers, timeout=60)
    growth_mb = (_peak_rss_kb() - before) / 1024
    assert response.status_code == 204, response.text
    assert sandbox.media(info["media_id"])["size"] == 64 * 1024 * 1024
    assert sandbox.media(info["media_id"])["detected_type"] == "video/mp4"
    assert growth_mb < 50, f"peak RSS grew by {growth_mb:.1f} MB while uploading 64 MB"
    wait_status(sandbox, http, info["media_id"], "succeeded", wait_until)
