"""Pinterest's video upload flow: register, upload the bytes to storage, wait for processing.

1. ``POST /media {"media_type": "video"}`` returns ``media_id``, ``upload_url``
   and ``upload_parameters`` (an S3 presigned POST's fields).
2. The bytes are POSTed to ``upload_url`` as multipart/form-data: every
   ``upload_parameters`` field first, the file last as ``file``, with a
   Content-Length (S3 needs one). The body is streamed by requests-toolbelt's
   ``MultipartEncoder`` from a file-like :class:`Source` that reads the file
   (or the download) a piece at a time: memory stays bounded whatever the size.
   The signed fields are secrets: no error or log line carries them, nor
   ``upload_url`` beyond its host. The upload goes without the bearer token.
3. ``GET /media/{media_id}`` until ``succeeded`` or ``failed``, within the
   action's deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import HTTPError as Urllib3Error

from ..errors import BadResponse, ConnectionFailed, StatusError, TimedOut
from ..run import Run
from ..settings import is_loopback
from ..spec.model import Request
from ..spec.validation import is_pinterest_id
from ..transport.client import PinterestClient, path_for
from .localfiles import megabytes

READ_PIECE = 1024 * 1024  # bytes the encoder asks the source for at most, per read
REPORT_EVERY = 0.02  # of the total: an upload event at each 2 % (and at the end)
POLL_FIRST = 0.25  # seconds before the second status check, growing by POLL_GROWTH up to POLL_MAX
POLL_GROWTH = 2.0
POLL_MAX = 10.0
CREATE_RESERVE = 2.0  # seconds kept for the create step: a poll that would leave less stops waiting
DONE_STATUSES = ("succeeded", "failed")


class SourceError(Exception):
    """Reading the video's bytes failed or ended early (not an OSError: urllib3 must not take it for the network)."""


class DeadlinePassed(Exception):
    """The action's deadline passed while the body was being sent."""


class _NoAuth(AuthBase):
    """No Authorization header at all (not even one ``~/.netrc`` would add): storage takes signed fields."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


class Source:
    """The video's bytes as a file-like body with a known length, read a piece at a time.

    ``len`` is what remains (requests-toolbelt's ``total_len`` reads it);
    ``head`` is bytes already read from ``stream`` (for the type check). A
    stream that ends before ``size`` bytes, or fails, raises :class:`SourceError`;
    each read checks the deadline and reports progress now and then.
    """

    def __init__(self, stream: IO[bytes] | Any, size: int, head: bytes = b"") -> None:
        self._stream = stream
        self._head = head
        self.size = size
        self.sent = 0
        self._reported = 0
        self.on_progress: Callable[[int, int], None] = lambda sent, total: None
        self.deadline: float | None = None
        self.clock: Callable[[], float] | None = None

    @property
    def len(self) -> int:
        return self.size - self.sent

    def read(self, size: int = -1) -> bytes:
        if self.deadline is not None and self.clock is not None and self.clock() > self.deadline:
            raise DeadlinePassed
        wanted = self.len if size is None or size < 0 else min(size, self.len, READ_PIECE)
        if wanted <= 0:
            return b""
        if self._head:
            piece, self._head = self._head[:wanted], self._head[wanted:]
        else:
            try:
                piece = self._stream.read(wanted)
            except (OSError, Urllib3Error, requests.exceptions.RequestException, ValueError) as exc:
                raise SourceError(f"reading the video failed ({type(exc).__name__})") from None
            if not piece:
                raise SourceError(f"the video ended after {self.sent} of {self.size} bytes")
        self.sent += len(piece)
        if self.sent - self._reported >= self.size * REPORT_EVERY or self.sent == self.size:
            self._reported = self.sent
            self.on_progress(self.sent, self.size)
        return piece


def register(client: PinterestClient, request: Request) -> tuple[str, str, dict[str, str]]:
    """``POST /media``: (media_id, upload_url, upload_parameters), each checked."""
    answer = client.send(request, path_for(request.path, {}), None, {"media_type": "video"})
    media_id = answer.get("media_id")
    url = answer.get("upload_url")
    fields = answer.get("upload_parameters")
    if not isinstance(media_id, str) or not media_id or not is_pinterest_id(media_id):
        raise BadResponse("the registered upload has no usable 'media_id'", status=201, sent=True)
    if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise BadResponse("'upload_parameters' is not an object of strings", status=201, sent=True)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname or parts.scheme not in ("http", "https"):
        raise BadResponse("'upload_url' is not an http(s) URL", status=201, sent=True)
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise BadResponse("'upload_url' is not https (only a loopback one may be http)", status=201, sent=True)
    return media_id, str(url), fields


def send_upload(
    client: PinterestClient, run: Run, url: str, fields: dict[str, str], source: Source, content_type: str
) -> None:
    """POST the multipart body to storage: the fields first, the file last as ``file``. An ApiError on failure."""
    from requests_toolbelt.multipart.encoder import MultipartEncoder  # only the video action needs it

    where = urlsplit(url).hostname or "storage"
    encoder = MultipartEncoder(fields=[*fields.items(), ("file", ("video", source, content_type))])
    source.deadline, source.clock = run.deadline, run.now
    source.on_progress = lambda sent, total: run.report({"event": "upload", "bytes": sent, "total": total})
    headers = {"Content-Type": encoder.content_type, "Content-Length": str(encoder.len)}
    sent_note = lambda: f"after {megabytes(source.sent)} of {megabytes(source.size)}"  # noqa: E731
    try:
        status = client.upload(url, {"data": encoder, "headers": headers, "auth": _NoAuth()})
    except DeadlinePassed:
        raise TimedOut(f"the upload outlasted the action's deadline ({sent_note()})") from None
    except SourceError as exc:
        raise ConnectionFailed(f"{exc}; the upload stopped", sent=False) from None
    except TimedOut as error:
        raise TimedOut(f"the upload to {where} timed out ({sent_note()})", sent=error.sent) from None
    except ConnectionFailed as error:
        raise ConnectionFailed(f"the upload to {where} broke off ({sent_note()})", sent=error.sent) from None
    if not 200 <= status < 300:
        # The storage's own error text can quote the signed policy: it is not echoed.
        raise StatusError(
            f"HTTP {status}", status=status, sent=True, message=f"the media storage at {where} refused the upload"
        )


def wait_for_processing(client: PinterestClient, run: Run, request: Request, media_id: str) -> str:
    """``GET /media/{media_id}`` until done or the deadline is near: the last status seen."""
    path = path_for(request.path, {"media_id": media_id})
    interval = POLL_FIRST
    while True:
        answer = client.send(request, path, None, None)
        status = answer.get("status")
        if not isinstance(status, str):
            raise BadResponse("the media upload has no 'status'", status=200, sent=True)
        run.report({"event": "processing", "media_id": media_id, "status": status})
        if status in DONE_STATUSES:
            return status
        if run.now() + interval + CREATE_RESERVE > run.deadline:
            return status
        run.sleep(interval)
        interval = min(POLL_MAX, interval * POLL_GROWTH)
