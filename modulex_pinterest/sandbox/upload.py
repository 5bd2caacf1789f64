"""The upload endpoint (``POST /media-uploads``): an S3 presigned POST, streamed.

The body is ``multipart/form-data`` with every ``upload_parameters`` field and
the bytes last, as the field ``file`` (S3's rule: fields after ``file`` are
ignored, so a required one sent after it is missing). It is read in chunks of
``CHUNK`` bytes within its Content-Length (required: no chunked bodies), and
only the fields before the file are kept: the file's bytes are counted, their
first bytes kept for sniffing the type, and dropped, so an upload of any size
costs a few hundred kilobytes. The form is verified (``media.MediaStore.verify``)
when the file part starts.

A whole upload answers 204 and starts processing; an error answers S3's XML
error after reading the rest of the body (so the client, still sending, reads
it). A body that ends early (client gone, connection reset) leaves the media
as it was and gets no answer. Faults: ``upload_error`` reads ``after_bytes``
(default half the body), answers 500 ``InternalError``, reads the rest unstored
and closes; ``upload_drop`` reads ``after_bytes`` and closes without
answering; neither stores anything. ``processing_failed`` and
``processing_slow`` let the upload through and change its processing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BufferedIOBase

from .media import FORM_CONTENT_TYPE, MAX_UPLOAD, MediaRec, MediaStore, UploadError

CHUNK = 256 * 1024
MAX_FORM_BYTES = 64 * 1024  # every field before the file, headers included
HEAD_BYTES = 16  # kept for sniffing
BODY_SLACK = 1024 * 1024  # the body may exceed the file's limit by the form around it
BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))', re.IGNORECASE)
FIELD_NAME = re.compile(r'(?:^|;)\s*name="([^"]*)"', re.IGNORECASE)
XML = {"Content-Type": "application/xml"}


class Ended(Exception):
    """The body ended before its Content-Length: the client went away."""


class Cut(Exception):
    """A fault stopped reading the body here."""


@dataclass
class Outcome:
    status: int | None  # None: no answer, close the connection
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    close: bool = False
    linger: Callable[[], None] | None = None  # to run once the answer is sent


def error(err: UploadError, close: bool = False) -> Outcome:
    return Outcome(err.status, dict(XML), err.xml(), close)


class Body:
    """The request body, read in chunks up to its Content-Length (or a fault's cut)."""

    def __init__(self, rfile: BufferedIOBase, length: int, cut_at: int | None = None) -> None:
        self.rfile, self.left, self.cut_at, self.read_bytes = rfile, length, cut_at, 0

    def read(self) -> bytes:
        """The next chunk; b"" once the whole body is read."""
        n = min(CHUNK, self.left)
        if self.cut_at is not None:
            if self.read_bytes >= self.cut_at:
                raise Cut
            n = min(n, self.cut_at - self.read_bytes)
        if n == 0:
            return b""
        try:
            chunk = self.rfile.read(n)
        except OSError:  # reset, or the handler's timeout
            raise Ended from None
        if not chunk:
            raise Ended
        self.left -= len(chunk)
        self.read_bytes += len(chunk)
        return chunk

    def drain(self) -> None:
        while self.read():
            pass

    def discard(self) -> None:
        """Read the rest, if the client still sends it."""
        try:
            self.drain()
        except Ended:
            pass


class Multipart:
    """A streaming multipart/form-data reader over ``Body``."""

    def __init__(self, body: Body, boundary: bytes) -> None:
        self.body = body
        self.delim = b"\r\n--" + boundary
        self.buf = b"\r\n"  # so the first delimiter looks like every other

    def _more(self) -> None:
        chunk = self.body.read()
        if not chunk:
            raise UploadError(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed.")
        self.buf += chunk

    def until_delimiter(self, limit: int) -> bytes:
        """Everything up to the next delimiter (at most ``limit`` bytes), which is consumed."""
        while (i := self.buf.find(self.delim)) < 0:
            if len(self.buf) > limit + len(self.delim):
                raise UploadError(
                    400,
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceding the upload file were too large.",
                )
            self._more()
        data, self.buf = self.buf[:i], self.buf[i + len(self.delim) :]
        return data

    def stream_until_delimiter(self, sink: Callable[[bytes], None]) -> None:
        keep = len(self.delim) - 1
        while (i := self.buf.find(self.delim)) < 0:
            if len(self.buf) > keep:
                sink(self.buf[:-keep])
                self.buf = self.buf[-keep:]
            self._more()
        sink(self.buf[:i])
        self.buf = self.buf[i + len(self.delim) :]

    def next_part(self) -> str | None:
        """After a delimiter: the next part's field name, or None at the closing one."""
        while len(self.buf) < 2:
            self._more()
        if self.buf[:2] == b"--":
            return None
        while (i := self.buf.find(b"\r\n\r\n")) < 0:
            if len(self.buf) > MAX_FORM_BYTES:
                raise UploadError(400, "MalformedPOSTRequest", "A part's headers are too large.")
            self._more()
        head, self.buf = self.buf[:i].decode("latin-1"), self.buf[i + 4 :]
        lines = head.split("\r\n")
        if lines[0].strip():
            raise UploadError(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed.")
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition" and (match := FIELD_NAME.search(value)):
                return match.group(1)
        raise UploadError(400, "MalformedPOSTRequest", "A part has no Content-Disposition name.")


class FileSink:
    """Counts the file's bytes and keeps the first few."""

    def __init__(self) -> None:
        self.size, self.head = 0, b""

    def __call__(self, data: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.size += len(data)


def _length(headers: dict[str, str]) -> int | UploadError:
    if headers.get("transfer-encoding"):
        return UploadError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
    raw = headers.get("content-length")
    if raw is None:
        return UploadError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
    if not (raw.isascii() and raw.isdigit()):
        return UploadError(400, "InvalidArgument", "Invalid Content-Length.")
    if int(raw) > MAX_UPLOAD + BODY_SLACK:
        return UploadError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    return int(raw)


def _boundary(headers: dict[str, str]) -> bytes | None:
    content_type = headers.get("content-type", "")
    match = BOUNDARY.search(content_type)
    if content_type.split(";")[0].strip().lower() != FORM_CONTENT_TYPE or match is None:
        return None
    return (match.group(1) or match.group(2)).encode("latin-1")


def receive(
    rfile: BufferedIOBase,
    headers: dict[str, str],
    media: MediaStore,
    fault: str | None = None,
    after_bytes: int | None = None,
    delay: float = 0.0,
) -> Outcome:
    """Read one upload request's body (``headers`` lower-cased) and say what to answer."""
    length = _length(headers)
    if isinstance(length, UploadError):
        return error(length, close=True)
    cut_at = None
    if fault in ("upload_error", "upload_drop"):
        cut_at = length // 2 if after_bytes is None else min(after_bytes, length)
    body = Body(rfile, length, cut_at)
    try:
        try:
            boundary = _boundary(headers)
            if boundary is None:
                raise UploadError(
                    400, "PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data."
                )
            rec, sink, names = _read_form(Multipart(body, boundary), media)
        except UploadError as err:
            body.drain()
            return error(err)
        body.drain()  # parts after the file are ignored
        media.complete(rec, sink.size, sink.head, names, fault, delay)
        return Outcome(204, {"x-amz-request-id": secrets.token_hex(8).upper()})
    except Cut:
        if fault == "upload_drop":
            return Outcome(None, close=True)
        body.cut_at = None  # answer now, then read the rest unstored, so the client sees the answer
        failure = error(UploadError(500, "InternalError", "We encountered an internal error. Please try again."))
        failure.close, failure.linger = True, body.discard
        return failure
    except Ended:
        return Outcome(None, close=True)


def _read_form(parts: Multipart, media: MediaStore) -> tuple[MediaRec, FileSink, list[str]]:
    """Read the fields up to the file, verify them, then count the file's bytes."""
    form: dict[str, str] = {}
    names: list[str] = []
    parts.until_delimiter(MAX_FORM_BYTES)  # a preamble, if any
    used = 0
    while (name := parts.next_part()) is not None:
        if name != "file":
            value = parts.until_delimiter(MAX_FORM_BYTES - used)
            used += len(value) + len(name)
            form.setdefault(name.lower(), value.decode("utf-8", "replace"))
            names.append(name)
            continue
        rec, low, high = media.verify(form)
        sink = FileSink()
        parts.stream_until_delimiter(sink)
        if sink.size < low:
            raise UploadError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.")
        if sink.size > high:
            raise UploadError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        return rec, sink, names + ["file"]
    raise UploadError(400, "InvalidArgument", "POST requires exactly one file upload per request.")
