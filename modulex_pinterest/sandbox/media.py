"""Media uploads: ``POST /v5/media``, ``GET /v5/media(/{media_id})`` and the
presigned POST that carries the bytes.

``POST /media`` registers an upload and answers ``MediaUpload``: a ``media_id``,
an ``upload_url`` on the sandbox itself (``/media-uploads``, outside ``/v5``,
standing in for Pinterest's S3 bucket) and ``upload_parameters``, the fields of
an S3 presigned POST. The policy is a base64 JSON document listing every field
(``eq`` conditions) and the allowed file size; ``x-amz-signature`` is AWS
Signature V4 over it (HMAC-SHA256 with a key derived from the sandbox's secret,
the credential's date, region and service), so the upload endpoint verifies a
form the way S3 does: signature first, then expiry, then each condition, then
no field the policy does not name.

A media's status is computed when read: ``registered`` until an upload ends
whole, then ``processing`` for its processing time, then ``failed`` (the bytes
are not MP4/MOV, or a ``processing_failed`` fault) or ``succeeded``. Nothing
runs in the background; a new upload of the same media starts over.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from .errors import ApiError, bad_request

UPLOAD_PATH = "/media-uploads"
UPLOAD_TTL = 3600  # the presigned POST's policy expires an hour after registration
MAX_UPLOAD = 2 * 1024**3  # Pinterest's video limit: 2 GB
ALGORITHM = "AWS4-HMAC-SHA256"
REGION, SERVICE = "us-east-1", "s3"
BUCKET = "pinterest-media-upload"
FORM_CONTENT_TYPE = "multipart/form-data"
VIDEO_TYPES = ("video/mp4", "video/quicktime")
# Top-level atoms a QuickTime file may start with instead of ftyp.
QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
# Form fields S3 never lists in a policy.
UNSIGNED_FIELDS = ("policy", "x-amz-signature", "file")
MEDIA_ID_BASE = 5212123920968240000


class UploadError(Exception):
    """An S3-style error answer of the upload endpoint: status, code and an XML body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def xml(self) -> bytes:
        request_id = secrets.token_hex(8).upper()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>sandbox</HostId></Error>"
        ).encode()


def denied(message: str) -> UploadError:
    return UploadError(403, "AccessDenied", message)


def sniff(head: bytes) -> str:
    """The type of a file by its first bytes: MP4/MOV have an atom type at offset 4."""
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[4:8] in QUICKTIME_ATOMS:
        return "video/quicktime"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


@dataclass
class MediaRec:
    media_id: str
    seq: int
    app_id: str
    key: str
    uploaded_at: float | None = None  # time.monotonic() when an upload ended whole
    processing_seconds: float = 0.0
    fail_reason: str | None = None
    size: int | None = None
    detected_type: str | None = None
    uploads: int = 0
    field_names: list[str] = field(default_factory=list)  # of the last accepted upload, in order

    def status(self, now: float) -> str:
        if self.uploaded_at is None:
            return "registered"
        if now < self.uploaded_at + self.processing_seconds:
            return "processing"
        return "failed" if self.fail_reason else "succeeded"

    def public(self, now: float) -> dict:
        """``Media``, as GET /media and GET /media/{media_id} serve it."""
        return {"media_id": self.media_id, "media_type": "video", "status": self.status(now)}


class MediaStore:
    def __init__(self, processing_seconds: float = 0.2) -> None:
        if processing_seconds < 0:
            raise ValueError("media_processing_seconds must not be negative")
        self.processing_seconds = processing_seconds
        self._lock = threading.Lock()
        self._secret = "sandbox/" + secrets.token_urlsafe(30)
        alphabet = string.ascii_uppercase + string.digits
        self._access_key = "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16))
        self._bookmark_key = secrets.token_bytes(32)
        self._by_id: dict[str, MediaRec] = {}
        self._by_key: dict[str, MediaRec] = {}
        self._next_seq = 1

    # ----- registration ---------------------------------------------------

    def _signing_key(self, day: str) -> bytes:
        key = _hmac(("AWS4" + self._secret).encode(), day)
        for part in (REGION, SERVICE, "aws4_request"):
            key = _hmac(key, part)
        return key

    def register(self, app_id: str, upload_url: str) -> dict:
        """POST /media: a new media and its presigned POST (``MediaUpload``)."""
        now = time.time()
        with self._lock:
            seq, self._next_seq = self._next_seq, self._next_seq + 1
            media_id = str(MEDIA_ID_BASE + seq)
            digest = hashlib.md5(media_id.encode()).hexdigest()
            key = f"uploads/{digest[0:2]}/{digest[2:4]}/{digest[4:6]}/{seq}:video:{app_id}:{media_id}"
            rec = MediaRec(media_id, seq, app_id, key)
            self._by_id[media_id] = self._by_key[key] = rec
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        fields = {
            "Content-Type": FORM_CONTENT_TYPE,
            "key": key,
            "x-amz-algorithm": ALGORITHM,
            "x-amz-credential": f"{self._access_key}/{amz_date[:8]}/{REGION}/{SERVICE}/aws4_request",
            "x-amz-date": amz_date,
            "x-amz-security-token": base64.b64encode(secrets.token_bytes(48)).decode(),
        }
        expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + UPLOAD_TTL))
        conditions: list = [{"bucket": BUCKET}, *({k: v} for k, v in fields.items())]
        conditions.append(["content-length-range", 1, MAX_UPLOAD])
        policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()
        signature = hmac.new(self._signing_key(amz_date[:8]), policy.encode(), hashlib.sha256).hexdigest()
        parameters = {**fields, "policy": policy, "x-amz-signature": signature}
        return {"media_id": media_id, "media_type": "video", "upload_url": upload_url, "upload_parameters": parameters}

    # ----- the upload endpoint ----------------------------------------------

    def _policy(self, form: dict[str, str]) -> dict:
        """The form's policy document once its signature checks out."""
        for name in ("policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"):
            if name not in form:
                raise denied(f"Invalid according to Policy: Bucket POST must contain a field named '{name}'.")
        if form["x-amz-algorithm"] != ALGORITHM:
            raise UploadError(400, "InvalidArgument", f"The x-amz-algorithm must be {ALGORITHM}.")
        parts = form["x-amz-credential"].split("/")
        if len(parts) != 5 or parts[0] != self._access_key or parts[2:] != [REGION, SERVICE, "aws4_request"]:
            raise UploadError(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist.")
        want = hmac.new(self._signing_key(parts[1]), form["policy"].encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, form["x-amz-signature"].lower()):
            raise UploadError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        try:
            doc = json.loads(base64.b64decode(form["policy"], validate=True))
            expires = calendar.timegm(time.strptime(doc["expiration"][:19], "%Y-%m-%dT%H:%M:%S"))
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise UploadError(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
        if expires <= time.time():
            raise denied("Invalid according to Policy: Policy expired.")
        return doc

    def verify(self, form: dict[str, str]) -> tuple[MediaRec, int, int]:
        """The media a form (field names lower-cased) may upload to, and the allowed
        file size range; an ``UploadError`` when S3 would refuse the form."""
        doc = self._policy(form)
        named, low, high = {"bucket"}, 0, MAX_UPLOAD
        for condition in doc.get("conditions", []):
            if isinstance(condition, list) and condition[:1] == ["content-length-range"]:
                low, high = int(condition[1]), int(condition[2])
                continue
            for name, value in dict(condition).items():
                named.add(name.lower())
                if name.lower() != "bucket" and form.get(name.lower()) != value:
                    raise denied(f'Invalid according to Policy: Policy Condition failed: ["eq", "${name}", "{value}"]')
        extra = sorted(n for n in form if n not in named and n not in UNSIGNED_FIELDS and not n.startswith("x-ignore-"))
        if extra:
            raise denied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
        with self._lock:
            rec = self._by_key.get(form.get("key", ""))
        if rec is None:
            raise denied("Access Denied")
        return rec, low, high

    def complete(
        self, rec: MediaRec, size: int, head: bytes, field_names: list[str], fault: str | None, delay: float
    ) -> None:
        """An upload ended whole: processing starts now."""
        detected = sniff(head)
        with self._lock:
            rec.uploads += 1
            rec.size, rec.detected_type, rec.field_names = size, detected, list(field_names)
            rec.processing_seconds = delay if fault == "processing_slow" else self.processing_seconds
            rec.fail_reason = None
            if detected not in VIDEO_TYPES:
                rec.fail_reason = f"not a video: the file is {detected}"
            elif fault == "processing_failed":
                rec.fail_reason = "processing failed (injected fault)"
            rec.uploaded_at = time.monotonic()

    # ----- reading ----------------------------------------------------------

    def _own(self, media_id: str, app_id: str | None) -> MediaRec | None:
        rec = self._by_id.get(media_id)
        return rec if rec is not None and rec.app_id == app_id else None

    def get(self, media_id: str, app_id: str | None) -> dict:
        with self._lock:
            rec = self._own(media_id, app_id)
            if rec is None:
                raise ApiError(404, 404, "Media upload not found.")
            return rec.public(time.monotonic())

    def for_pin(self, media_id: str, app_id: str | None) -> MediaRec:
        """The caller's succeeded video for a video pin, or the 400 Pinterest answers."""
        with self._lock:
            rec = self._own(media_id, app_id)
            status = rec.status(time.monotonic()) if rec else None
        where = "Invalid request: media_source (source_type 'video_id'):"
        if rec is None:
            raise bad_request(f"{where} no media upload {media_id} of this app (POST /v5/media registers one).")
        if status != "succeeded":
            raise bad_request(f"{where} media {media_id} has status '{status}'; a video pin needs 'succeeded'.")
        return rec

    def list(self, app_id: str | None, bookmark: str | None, page_size: int) -> dict:
        """GET /media: the app's uploads, newest first."""
        after = self._after(app_id, bookmark)
        with self._lock:
            now = time.monotonic()
            recs = sorted((r for r in self._by_id.values() if r.app_id == app_id), key=lambda r: -r.seq)
            recs = [r for r in recs if after is None or r.seq < after]
            page = recs[:page_size]
            items = [r.public(now) for r in page]
        more = len(recs) > page_size
        return {"items": items, "bookmark": self._bookmark(app_id, page[-1].seq) if more else None}

    def _sign(self, payload: str) -> str:
        return hmac.new(self._bookmark_key, payload.encode(), "sha256").hexdigest()[:12]

    def _bookmark(self, app_id: str | None, seq: int) -> str:
        payload = f"media:{app_id}|{seq}"
        return base64.urlsafe_b64encode(f"{payload}|{self._sign(payload)}".encode()).decode().rstrip("=")

    def _after(self, app_id: str | None, bookmark: str | None) -> int | None:
        if bookmark is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(bookmark + "=" * (-len(bookmark) % 4)).decode()
            listing, seq, sig = raw.rsplit("|", 2)
            if listing == f"media:{app_id}" and hmac.compare_digest(sig, self._sign(f"{listing}|{seq}")):
                return int(seq)
        except ValueError:
            pass
        raise bad_request("Invalid bookmark: it is not a bookmark returned for this listing.")

    # ----- the Python API ---------------------------------------------------

    def info(self, media_id: str) -> dict | None:
        """What the sandbox knows of a media, for tests: status, bytes and type received."""
        with self._lock:
            rec = self._by_id.get(media_id)
            if rec is None:
                return None
            return {
                **rec.public(time.monotonic()),
                "app_id": rec.app_id,
                "size": rec.size,
                "detected_type": rec.detected_type,
                "uploads": rec.uploads,
                "fail_reason": rec.fail_reason,
                "field_names": list(rec.field_names),
            }

    def finish_processing(self, media_id: str) -> None:
        """End an uploaded media's processing now (its final status shows at once)."""
        with self._lock:
            rec = self._by_id[media_id]
            if rec.uploaded_at is not None:
                rec.processing_seconds = max(0.0, time.monotonic() - rec.uploaded_at)
