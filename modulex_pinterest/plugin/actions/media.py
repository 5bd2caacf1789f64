"""The media actions: a pin from a local file or base64 data, a carousel, a video pin.

Each builds a ``POST /pins`` body with the matching ``media_source``
(``image_base64``, ``multiple_image_urls`` / ``multiple_image_base64``,
``video_id``) and creates the pin by create_pin's rules: resent only when
Pinterest certainly did not act on it, and a failure after it may have
arrived says the pin may exist. A video is first uploaded (:mod:`.upload`);
a failure there is marked with its step (no pin can exist), and a failure
after the upload carries the ``media_id`` so a later run resumes from it.

``HANDLERS`` here is the four of :mod:`.actions` and these; :mod:`.manage` adds the rest.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import ApiError, InputError, TimedOut
from ..messages import MAX_ERROR_LENGTH, clip, setting, shown
from ..run import Failed, Inputs, JsonObject, Outcome, Run
from ..spec import manifest
from ..spec.model import Action
from ..transport.client import PinterestClient
from ..transport.decoding import header_number
from ..transport.netguard import MAX_REDIRECTS, PrivateAddressError, download_session
from ..transport.watchdog import deadline_for_this_thread
from . import upload
from .localfiles import SNIFF_BYTES, check_image_base64, check_video, open_allowed, read_image_file
from .pins import post_pin

CAROUSEL_ITEM_FIELDS = ("title", "description", "link")


def _one_of(inputs: Inputs, names: tuple[str, ...]) -> str:
    """The one of ``names`` given in ``inputs``: an InputError for none or several."""
    given = [name for name in names if name in inputs]
    if len(given) > 1:
        raise InputError(f"Invalid input: give only one of {', '.join(repr(n) for n in names)}, not {given}")
    if not given:
        raise InputError(f"Invalid input: one of {', '.join(repr(n) for n in names)} is required")
    return given[0]


def _create(action: Action, inputs: Inputs, client: PinterestClient, media_source: JsonObject) -> JsonObject:
    return post_pin(action, inputs, client, media_source, _shortened)


def _shortened(body: JsonObject) -> JsonObject:
    """A dry run's body with base64 data replaced by its size (the output stays small)."""
    source = dict(body["media_source"])
    for key in ("data", "cover_image_data"):
        if key in source:
            source[key] = f"<{len(source[key])} base64 characters>"
    if "items" in source:
        source["items"] = [
            dict(item, data=f"<{len(item['data'])} base64 characters>") if "data" in item else item
            for item in source["items"]
        ]
    return dict(body, media_source=source)


def create_pin_from_file(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    field = _one_of(inputs, ("file_path", "image_base64"))
    if field == "file_path":
        if "content_type" in inputs:
            raise InputError("Invalid input: 'content_type' goes with 'image_base64'; a file's type is read from it")
        content_type, data = read_image_file("file_path", inputs["file_path"], run.file_roots)
    else:
        if "content_type" not in inputs:
            raise InputError("Invalid input: 'content_type' is required with 'image_base64'")
        content_type, data = check_image_base64("image_base64", inputs["image_base64"], inputs["content_type"])
    source = {"source_type": "image_base64", "content_type": content_type, "data": data}
    return _create(action, inputs, client, source)


def _carousel_items(inputs: Inputs, roots: Any) -> tuple[str, list[JsonObject]]:
    """(source_type, items) of a carousel: all URLs, or all local files as base64 (Pinterest takes one kind)."""
    field = _one_of(inputs, ("image_urls", "items"))
    given = inputs[field]
    limits = manifest.spec().media_limits
    if not limits.carousel_min <= len(given) <= limits.carousel_max:
        raise InputError(
            f"Invalid input: '{field}' must hold {limits.carousel_min} to {limits.carousel_max} images "
            f"(got {len(given)})"
        )
    if field == "image_urls":
        return "multiple_image_urls", [{"url": url} for url in given]
    kinds = {"url" if "url" in item else "file_path" for item in given}
    if len(kinds) > 1 or any(("url" in item) == ("file_path" in item) for item in given):
        raise InputError(
            "Invalid input: each of 'items' needs exactly one of 'url' or 'file_path', and all the same one "
            "(Pinterest takes a carousel of URLs or of uploaded images, not both)"
        )
    items = []
    for index, item in enumerate(given):
        extra = {name: item[name] for name in CAROUSEL_ITEM_FIELDS if item.get(name)}
        if "url" in item:
            items.append({"url": item["url"], **extra})
            continue
        content_type, data = read_image_file(f"items.{index}.file_path", item["file_path"], roots)
        items.append({"content_type": content_type, "data": data, **extra})
    return ("multiple_image_urls" if kinds == {"url"} else "multiple_image_base64"), items


def create_carousel_pin(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    source_type, items = _carousel_items(inputs, run.file_roots)
    return _create(action, inputs, client, {"source_type": source_type, "items": items})


def _cover(inputs: Inputs, roots: Any) -> JsonObject:
    """The cover fields of a ``video_id`` media source: exactly one cover is required."""
    field = _one_of(inputs, ("cover_image_url", "cover_image_path", "cover_key_frame_time"))
    if field == "cover_image_url":
        return {"cover_image_url": inputs["cover_image_url"]}
    if field == "cover_key_frame_time":
        return {"cover_image_key_frame_time": inputs["cover_key_frame_time"]}
    content_type, data = read_image_file("cover_image_path", inputs["cover_image_path"], roots)
    return {"cover_image_content_type": content_type, "cover_image_data": data}


def _open_video(run: Run, inputs: Inputs, field: str) -> tuple[upload.Source, str, Any]:
    """(source, content type, what to close) for ``video_path`` or ``video_url``, checked before any upload."""
    if field == "video_path":
        handle, size = open_allowed("video_path", inputs["video_path"], run.file_roots)
        head = handle.read(SNIFF_BYTES)
        try:
            content_type = check_video("video_path", head, size)
        except InputError:
            handle.close()
            raise
        return upload.Source(handle, size, head), content_type, handle
    return _open_download(run, inputs["video_url"])


def _open_download(run: Run, url: str) -> tuple[upload.Source, str, _Download]:
    """Start downloading ``video_url``: its headers and first bytes, checked before any upload."""
    download = _Download(run)
    try:
        response = download.get(url)
        length = header_number(response.headers.get("Content-Length"))
        if response.status_code != 200 or length is None:
            given = response.headers.get("Content-Length")
            why = (
                f"HTTP {response.status_code}"
                if response.status_code != 200
                else "no Content-Length"
                if given is None
                else f"a malformed Content-Length {shown(given)}"
            )
            raise InputError(f"Invalid input: 'video_url' cannot be streamed to Pinterest ({why})")
        head = download.read_head()
        content_type = check_video("video_url", head, length)
    except BaseException:
        download.close()
        raise
    return upload.Source(download, length, head), content_type, download


class _Download:
    """``video_url`` being downloaded: its session, its answer, and a watch that closes the
    connection at the action's deadline (:mod:`..transport.watchdog`), kept until :meth:`close`,
    so the headers and the body (read while the video is uploaded) both end at the deadline.
    Redirects are followed here, each hop's host checked by :mod:`..transport.netguard`."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._session = download_session(run.allow_private_network)
        self._closing = ExitStack()
        self._closing.callback(self._session.close)
        self._watches = self._closing.enter_context(deadline_for_this_thread(run.deadline))
        self._response: requests.Response | None = None
        self.received = 0
        self.host = ""  # the last host asked (after redirects), to name it in messages

    @property
    def cut(self) -> bool:
        """Whether the watchdog closed the connection at the deadline."""
        return any(watch.fired for watch in self._watches)

    def _late(self) -> InputError:
        return InputError(
            f"Invalid input: 'video_url' did not answer within the action's deadline "
            f"({self._run.settings.deadline:g} s); nothing was uploaded"
        )

    def get(self, url: str) -> requests.Response:
        """The answer to ``GET url`` after at most MAX_REDIRECTS redirects (each answer closed unread)."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._get(url)
            location = self._session.get_redirect_target(response)
            if location is None:
                return response
            response.close()
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise InputError("Invalid input: 'video_url' redirected to a URL that is not http(s)")
        raise InputError(f"Invalid input: 'video_url' redirected more than {MAX_REDIRECTS} times")

    def _get(self, url: str) -> requests.Response:
        remaining = self._run.seconds_left()
        if remaining <= 0:
            raise self._late()
        connect, read = self._run.settings.timeout
        timeout = (min(connect, remaining), min(read, remaining))
        self.host = urlsplit(url).netloc.rpartition("@")[2]  # never a URL's user:password
        try:
            self._response = self._session.get(url, stream=True, allow_redirects=False, timeout=timeout)
        except PrivateAddressError as exc:
            raise InputError(
                f"Invalid input: 'video_url' was refused: {exc.host} resolves to {exc.address}, {exc.why}; "
                f"the plugin downloads only from public addresses; allow others with {setting('allow_private_network')}"
            ) from None
        except requests.exceptions.RequestException as exc:
            if self.cut or self._run.seconds_left() <= 0:
                raise self._late() from None
            raise InputError(f"Invalid input: 'video_url' could not be downloaded ({type(exc).__name__})") from None
        if self.cut:  # http.client takes the end of the stream for the end of the headers: some are missing
            raise self._late()
        return self._response

    def read_head(self) -> bytes:
        """The first SNIFF_BYTES bytes (fewer only if the body is shorter), for the type check."""
        head = b""
        try:
            while len(head) < SNIFF_BYTES and (piece := self.read(SNIFF_BYTES - len(head))):
                head += piece
        except upload.DeadlinePassed:
            raise self._late() from None
        except Exception:  # noqa: BLE001 - any failure here means no usable video
            raise InputError("Invalid input: 'video_url' broke off before its first bytes arrived") from None
        return head

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of the body; DeadlinePassed once the watchdog closed it."""
        assert self._response is not None  # read only after get()
        try:
            piece = self._response.raw.read(size)
        except Exception:
            if self.cut:
                raise upload.DeadlinePassed from None
            raise
        if not piece and self.cut:
            raise upload.DeadlinePassed
        self.received += len(piece)
        return piece

    def late_upload(self, error: ApiError, size: int) -> ApiError:
        """The upload's error, said as the download's when the download was cut at the deadline
        before all ``size`` bytes arrived (not when the storage's answer was the late part)."""
        if not self.cut or self.received >= size:
            return error
        late = TimedOut(
            f"'video_url' was still arriving at the action's deadline ({self.received} of {size} bytes "
            "downloaded); the upload stopped",
            sent=error.sent,
        )
        late.server = f"video_url's server ({self.host})"
        return late

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._closing.close()


def _upload_video(action: Action, inputs: Inputs, client: PinterestClient, run: Run, field: str) -> str | Failed:
    """Register, upload and return the media_id; a failure is a :class:`Failed` naming its step (no pin exists)."""
    source, content_type, closer = _open_video(run, inputs, field)
    step = "registering the video upload"
    try:
        media_id, url, fields = upload.register(client, action.media_requests["register"])
        step = "uploading the video"
        try:
            upload.send_upload(client, run, url, fields, source, content_type)
        except ApiError as error:
            if isinstance(closer, _Download):
                error = closer.late_upload(error, source.size)
            return Failed(error, {"media_id": media_id, "media_status": "registered"}, step=step)
    except ApiError as error:
        return Failed(error, step=step)
    finally:
        closer.close()
    return media_id


def _pending(action: Action, inputs: Inputs, media_id: str, status: str) -> JsonObject:
    """The output of a run whose video is still processing, or failed to process."""
    if status == "failed":
        message = f"Pinterest could not process the video (media {media_id} failed); no pin was created"
    else:
        message = (
            f"The video (media {media_id}) was still {status} at the action's deadline; no pin was created yet. "
            f"Run {action.name} again with media_id {media_id} (and no video_path or video_url) to finish"
        )
    output = manifest.failed_output(action, clip(message, MAX_ERROR_LENGTH))
    output.update({"media_id": media_id, "media_status": status})
    for name in ("title", "description", "link", "board_id", "board_section_id"):
        output[name] = inputs.get(name)
    return output


def create_video_pin(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    field = _one_of(inputs, ("video_path", "video_url", "media_id"))
    cover = _cover(inputs, run.file_roots)
    if inputs.get("dry_run"):
        if field == "video_path":  # checked like a real run; a video_url is not fetched on a dry run
            _open_video(run, inputs, field)[2].close()
        placeholder = inputs.get("media_id", "<the uploaded video's media_id>")
        return _create(action, inputs, client, {"source_type": "video_id", "media_id": placeholder, **cover})
    media_id = inputs["media_id"] if field == "media_id" else _upload_video(action, inputs, client, run, field)
    if isinstance(media_id, Failed):
        return media_id
    try:
        status = upload.wait_for_processing(client, run, action.media_requests["status"], media_id)
    except ApiError as error:
        return Failed(error, {"media_id": media_id}, step="checking the video's processing")
    if status != "succeeded":
        return _pending(action, inputs, media_id, status)
    try:
        output = _create(action, inputs, client, {"source_type": "video_id", "media_id": media_id, **cover})
    except ApiError as error:
        return Failed(error, {"media_id": media_id, "media_status": status})
    output.update({"media_id": media_id, "media_status": status})
    return output
