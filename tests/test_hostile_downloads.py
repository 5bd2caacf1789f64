"""Hostile sources for the one download the plugin makes itself (``video_url``), on loopback
through the reference host (issue 25): trickled headers and bodies end at the action's
deadline, a non-public address is refused before any connection is made (the same words for
an open and a closed port, the checked address pinned for the connection), and header numbers
are ASCII digits only, every answer closed.

Each slow source records when it saw the plugin hang up, so a bound is read on the server's
side: from the request's arrival (after the deadline started) to the connection's close.
"""

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from raw_server import RawServer
from test_media import BOARD, MP4, MediaApi, _origin

DEADLINE = 2.0
SLOW = 0.5  # seconds between trickled bytes
COVER = "https://images.example.com/cover.jpg"


def video_pin(url, **more):
    return {"board_id": BOARD, "title": "t", "video_url": url, "cover_image_url": COVER, **more}


class Source:
    """A raw video source: ``send(conn)`` writes the answer; ``hung_up`` is set when the plugin
    closed the connection, ``began``/``closed`` are when the request arrived and when it did."""

    def __init__(self, chunks, every=SLOW):
        self.chunks = chunks
        self.every = every
        self.hung_up = threading.Event()
        self.began = self.closed = None

    def __call__(self, conn, request):
        self.began = time.monotonic()
        for chunk in self.chunks:
            conn.sendall(chunk)
            if self._client_left(conn, self.every):
                return False
        self._client_left(conn, 10.0)  # all sent: wait for the plugin to close (it must, on every path)
        return False

    def _client_left(self, conn, seconds):
        conn.settimeout(seconds)
        try:
            left = conn.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:
            left = True
        if left:
            self.closed = time.monotonic()
            self.hung_up.set()
        return left


def fetch(run, server, video, path, **settings):
    """create_video_pin through the host with ``video``'s ``path`` as the video_url, the API on ``server``."""
    return run("create_video_pin", video_pin(_origin(video.base_url) + path), server.base_url, **settings)


def head(length, *extra):
    lines = ["HTTP/1.1 200 OK", "Content-Type: video/mp4", f"Content-Length: {length}", *extra, "", ""]
    return "\r\n".join(lines).encode("latin-1")


# ----- every byte source obeys the deadline -------------------------------


@pytest.mark.parametrize("start", [5, 17, 58], ids=["status line", "headers", "Content-Length's digits"])
def test_a_video_url_trickling_its_headers_ends_at_the_deadline(server, run, start):
    """``start`` bytes at once, then one header byte every 0.5 s: the download is closed at the
    deadline, and the headers cut short there are not taken for whole ones (http.client ends the
    headers at the end of the stream: a Content-Length cut to its first digits would look valid)."""
    api = MediaApi(server)
    whole = head(10 * 1024 * 1024)
    assert whole[:17] == b"HTTP/1.1 200 OK\r\n" and whole[42:58] == b"Content-Length: "
    source = Source([whole[:start]] + [bytes([b]) for b in whole[start : start + 40]])
    with RawServer(source) as video:
        began = time.monotonic()
        out = fetch(run, server, video, "/clip.mp4", deadline=DEADLINE, allow_private_network=True)
        took = time.monotonic() - began
        assert source.hung_up.wait(5), "the plugin never closed the slow download"
    assert not out["success"]
    assert out["error"] == (
        f"Invalid input: 'video_url' did not answer within the action's deadline ({DEADLINE:g} s); nothing was uploaded"
    )
    assert source.closed - source.began < DEADLINE + 1  # on the source's side: the acceptance's bound
    assert took < DEADLINE + 5  # the whole call, with a margin for a machine ten times slower
    assert server.requests == [] and api is not None  # nothing registered, nothing uploaded


def test_a_video_url_trickling_its_body_ends_at_the_deadline_with_the_media_id(server, run):
    """A valid MP4 head (12 bytes) of a 10 MB video, then one byte every 0.5 s: the upload stops
    at the deadline, says the download was too slow, and returns the registered media_id."""
    MediaApi(server)
    source = Source([head(10 * 1024 * 1024) + MP4[:12]] + [bytes([b]) for b in MP4[12:72]])
    with RawServer(source) as video:
        out = fetch(run, server, video, "/clip.mp4", deadline=DEADLINE, allow_private_network=True)
        assert source.hung_up.wait(5), "the plugin never closed the slow download"
    events = [(r.method, r.path) for r in server.requests]
    assert not out["success"]
    assert out["error"].startswith(
        f"While uploading the video: Request to video_url's server ({urlsplit(video.base_url).netloc}) timed "
        "out: 'video_url' was still arriving at the action's deadline ("
    ), out["error"]
    assert "of 10485760 bytes downloaded); the upload stopped; no pin was created" in out["error"]
    assert (out["media_id"], out["media_status"]) == ("4242", "registered")
    assert source.closed - source.began < DEADLINE + 1
    assert ("POST", "/v5/pins") not in events and ("POST", "/v5/media") in events


def test_a_slow_but_steady_video_url_within_the_deadline_still_uploads(server, run):
    """The watch is released when the download is done: a source a little slow but within the deadline works."""
    MediaApi(server)
    source = Source([head(len(MP4)) + MP4[:12], MP4[12:2048], MP4[2048:]], every=0.05)
    with RawServer(source) as video:
        out = fetch(run, server, video, "/clip.mp4", deadline=30, allow_private_network=True)
    assert out["success"], out["error"]
    uploaded = [r for r in server.requests if r.path == "/upload"]
    assert len(uploaded) == 1 and MP4 in uploaded[0].body


def test_through_the_cli_a_trickled_video_url_ends_at_the_deadline(server, tmp_path):
    """The installed console script, ``--deadline 2 --allow-private-network``: exit 1 with the deadline's words."""
    from conftest import TOKEN
    from test_cli import cli, strict_json

    MediaApi(server)
    whole = head(10 * 1024 * 1024)
    source = Source([whole[:5]] + [bytes([b]) for b in whole[5:60]])
    with RawServer(source) as video:
        inputs = json.dumps(video_pin(_origin(video.base_url) + "/clip.mp4"))
        result = cli("run", "create_video_pin", "--input", inputs, "--base-url", server.base_url,
                     "--deadline", f"{DEADLINE:g}", "--allow-private-network", token=TOKEN, cwd=tmp_path)  # fmt: skip
        assert source.hung_up.wait(5)
    assert result.returncode == 1, result.stderr
    assert "did not answer within the action's deadline" in strict_json(result.stdout)["error"]
    assert source.closed - source.began < DEADLINE + 1
    assert server.requests == []


def test_through_the_cli_a_loopback_video_url_reaches_no_listener(server, tmp_path):
    from conftest import TOKEN
    from test_cli import cli, strict_json

    listener = _listener()
    try:
        errors = []
        for port in (listener.getsockname()[1], _closed_port()):
            inputs = json.dumps(video_pin(f"http://127.0.0.1:{port}/clip.mp4"))
            result = cli("run", "create_video_pin", "--input", inputs, "--base-url", server.base_url, token=TOKEN,
                         cwd=tmp_path)  # fmt: skip
            assert result.returncode == 1, result.stderr
            errors.append(strict_json(result.stdout)["error"])
        assert _nothing_connected(listener)
    finally:
        listener.close()
    assert errors[0] == errors[1] and "'video_url' was refused" in errors[0]
    assert server.requests == []


# ----- no network oracle --------------------------------------------------


def _listener(family=socket.AF_INET, address="127.0.0.1"):
    """A listening socket that never accepts: a connection attempt would sit in its queue."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


def _closed_port(family=socket.AF_INET, address="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def _nothing_connected(listener):
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def test_a_private_video_url_is_refused_before_connecting_in_the_same_words_for_open_and_closed_ports(server, run):
    MediaApi(server)
    listener = _listener()
    try:
        open_port = listener.getsockname()[1]
        outs = {
            port: run("create_video_pin", video_pin(f"http://127.0.0.1:{port}/clip.mp4"), server.base_url)
            for port in (open_port, _closed_port())
        }
        assert _nothing_connected(listener), "a TCP connection reached the listener"
    finally:
        listener.close()
    first, second = outs.values()
    assert not first["success"] and first == second
    assert first["error"] == (
        "Invalid input: 'video_url' was refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address; "
        "the plugin downloads only from public addresses; allow others with setting 'allow_private_network'"
    )
    assert server.requests == []


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_an_ipv6_loopback_video_url_is_refused_before_connecting(server, run):
    try:
        listener = _listener(socket.AF_INET6, "::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        out = run("create_video_pin", video_pin(f"http://[::1]:{listener.getsockname()[1]}/v.mp4"), server.base_url)
        assert _nothing_connected(listener)
    finally:
        listener.close()
    assert "'video_url' was refused: ::1 resolves to ::1, a loopback address" in out["error"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://localhost:9/v.mp4", "localhost resolves to "),
        ("http://10.255.255.1/v.mp4", "10.255.255.1 resolves to 10.255.255.1, a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254, a link-local address"),
        ("http://[::ffff:127.0.0.1]/v.mp4", "::ffff:127.0.0.1, a loopback address"),
        ("http://0.0.0.0:9/v.mp4", "0.0.0.0, an unspecified address"),
    ],
)
def test_non_public_hosts_are_refused_by_the_address_they_resolve_to(server, run, url, words):
    out = run("create_video_pin", video_pin(url), server.base_url, deadline=10)
    assert "'video_url' was refused: " in out["error"] and words in out["error"], out["error"]
    assert server.requests == []


def test_the_checked_address_is_the_one_connected_to_with_one_lookup_and_the_host_kept(server, run, monkeypatch):
    """A rebinding name: its first lookup answers the source's address (made public for the test), any
    later one an unroutable private address. The download looks up once, connects to what it
    checked, and still sends the name as Host."""
    from modulex_pinterest.plugin.transport import netguard

    monkeypatch.setattr(netguard, "non_public_reason", lambda address: None if address == "127.0.0.1" else "private")
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "video.rebind.test":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "10.255.255.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    MediaApi(server)
    source = Source([head(len(MP4)) + MP4], every=0.01)
    with RawServer(source) as video:
        port = video.base_url.split(":")[2].split("/")[0]
        out = run("create_video_pin", video_pin(f"http://video.rebind.test:{port}/clip.mp4"), server.base_url)
    assert out["success"], out["error"]
    assert lookups == ["video.rebind.test"]
    assert video.requests[0].headers["host"] == f"video.rebind.test:{port}"


def test_allow_private_network_still_downloads_from_loopback(server, run):
    MediaApi(server)
    source = Source([head(len(MP4)) + MP4], every=0.01)
    with RawServer(source) as video:
        out = fetch(run, server, video, "/clip.mp4", allow_private_network=True)
    assert out["success"], out["error"]


def test_each_redirect_hop_is_checked_and_its_answer_closed_unread(server, run):
    """A redirect whose body never ends is closed unread and the next hop followed (requests itself
    reads a redirect's whole body, even when told not to follow it)."""
    MediaApi(server)
    target = Source([head(len(MP4)) + MP4], every=0.01)
    with RawServer(target) as final:
        hop = "\r\n".join(["HTTP/1.1 302 Found", f"Location: {_origin(final.base_url)}/clip.mp4",
                           "Content-Length: 1000000000", "", ""]).encode()  # fmt: skip
        first = Source([hop + b"x" * 65536] + [b"x"] * 20, every=0.05)
        with RawServer(first) as redirecting:
            out = fetch(run, server, redirecting, "/start.mp4", allow_private_network=True)
            assert first.hung_up.wait(5)
    assert out["success"], out["error"]
    assert [r.path for r in final.requests] == ["/clip.mp4"]


def test_redirects_are_bounded(server, run):
    def answer(conn, request):
        n = len(loop.requests)
        conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: /hop{n}\r\nContent-Length: 0\r\n\r\n".encode())
        return True

    with RawServer(answer) as loop:
        out = fetch(run, server, loop, "/hop0", allow_private_network=True)
    assert out["error"] == "Invalid input: 'video_url' redirected more than 5 times"
    assert len(loop.requests) == 6


# ----- strict header numbers ---------------------------------------------


@pytest.mark.parametrize(
    "length",
    [b"\xb2\xb3", b"\xb9", b"+5000", b"5 5", b"1e3", b"5_000", b"-1", b"0x10", b"5000, 5000", b"9" * 5000],
    ids=[
        "superscripts",
        "superscript-one",
        "plus",
        "inner-space",
        "exponent",
        "underscore",
        "negative",
        "hex",
        "list",
        "5000-digits",
    ],
)
def test_a_malformed_content_length_is_refused_and_the_answer_closed(server, run, length):
    MediaApi(server)
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: " + length + b"\r\n\r\n" + MP4
    source = Source([answer])
    with RawServer(source) as video:
        out = fetch(run, server, video, "/clip.mp4", allow_private_network=True)
        assert source.hung_up.wait(5), "the answer was left open"
    assert not out["success"]
    expected = "Invalid input: 'video_url' cannot be streamed to Pinterest (a malformed Content-Length '"
    assert out["error"].startswith(expected), out["error"]
    assert "Internal error" not in out["error"] and server.requests == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 5000\r\n\r\n" + b"x" * 10,
            "cannot be streamed to Pinterest (HTTP 404)",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"GIF89a" + bytes(10), "is not an MP4 or MOV video"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + MP4[:16] + b"\r\n", "(no Content-Length)"),
    ],
    ids=["404", "not-a-video", "no-length"],
)
def test_every_refused_answer_is_closed(server, run, answer, words):
    source = Source([answer])
    with RawServer(source) as video:
        out = fetch(run, server, video, "/clip.mp4", allow_private_network=True)
        assert source.hung_up.wait(5), "the answer was left open"
    assert words in out["error"], out["error"]


def test_an_accepted_content_length_may_have_spaces_around_it(server, run):
    MediaApi(server)
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: \t" + str(len(MP4)).encode() + b" \r\n\r\n"
    source = Source([answer + MP4], every=0.01)
    with RawServer(source) as video:
        out = fetch(run, server, video, "/clip.mp4", allow_private_network=True)
    assert out["success"], out["error"]


def _self_signed(tmp_path, name):
    """(cert file, key file) of a self-signed certificate for ``name``, made with ``cryptography``."""
    import datetime

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_https_to_the_pinned_address_still_names_the_host_for_tls(server, run, monkeypatch, tmp_path):
    """The same rebinding name over https: one lookup, the TLS handshake names the host (SNI) and
    the certificate is checked against it (a certificate for that name, trusted for the test)."""
    import ssl

    import requests

    from modulex_pinterest.plugin.transport import netguard

    name = "video.rebind.test"
    cert_file, key_file = _self_signed(tmp_path, name)
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(cert_file))
    monkeypatch.setattr(netguard, "non_public_reason", lambda address: None if address == "127.0.0.1" else "private")
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == name:
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "10.255.255.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    names = []
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))
    served = []

    def serve():
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            request = b""
            while b"\r\n\r\n" not in request:
                request += tls.recv(4096)
            served.append(request)
            tls.sendall(head(len(MP4)) + MP4)
            tls.settimeout(10)
            tls.recv(1)  # until the plugin closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    MediaApi(server)
    try:
        url = f"https://{name}:{listener.getsockname()[1]}/clip.mp4"
        out = run("create_video_pin", video_pin(url), server.base_url)
        thread.join(10)
    finally:
        listener.close()
    assert out["success"], out["error"]
    assert lookups == [name] and names == [name]
    assert f"Host: {name}:".encode() in served[0]
