"""A plugin's progress events (contract ``Progress``) in words, for whatever a person watches: the
command line's standard error, an MCP client's notifications, an Airflow task's log, a Langflow
node's status. One wording for every face (``page 3: 750 items so far``, ``uploading: 12.5 of
64.0 MB (19%)``), and video uploads thinned to a line per 5 % at most."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

MB = 1024 * 1024
UPLOAD_STEP = 0.05  # of the upload: the least progress between two upload lines ...
UPLOAD_INTERVAL = 1.0  # ... and the least time, in seconds


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _count(value: Any) -> int:
    """A byte count from an event, 0 when it is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def upload_text(sent: int, total: int) -> str:
    """``uploading: 12.5 of 64.0 MB (19%)`` (MB of 2**20 bytes, as the plugin's messages count them)."""
    if not total:
        return f"uploading: {sent / MB:.1f} MB"
    return f"uploading: {sent / MB:.1f} of {total / MB:.1f} MB ({min(100, sent * 100 // total)}%)"


def progress_text(event: Mapping[str, Any]) -> str | None:
    """A plugin's progress event in words (``page 3: 750 items so far``), or ``None`` for a kind not known here."""
    kind = event.get("event")
    if kind == "page":
        return f"page {event.get('pages')}: {_plural(int(event.get('items') or 0), 'item')} so far"
    if kind == "wait":
        reason = f" ({event['reason']})" if event.get("reason") else ""
        return f"waiting {float(event.get('seconds') or 0):g} s{reason}"
    if kind == "upload":
        return upload_text(_count(event.get("bytes")), _count(event.get("total")))
    if kind == "processing":
        return f"processing media {event.get('media_id')}: {event.get('status')}"
    return None


class UploadThrottle:
    """Which upload events are worth a line (or a notification): the first, the last, and in between
    one at most every 5 % *and* 1 s, so a fast upload is two lines and a slow one one line per 5 %.
    Every other kind of event passes. One per action run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._shown: tuple[float, float] | None = None  # (fraction sent, when) of the last line

    def wanted(self, event: Mapping[str, Any]) -> bool:
        if event.get("event") != "upload":
            return True
        sent, total = _count(event.get("bytes")), _count(event.get("total"))
        fraction, now = (sent / total if total else 0.0), self._clock()
        last = self._shown
        if (
            last is None
            or (total and sent >= total)
            or (fraction - last[0] >= UPLOAD_STEP and now - last[1] >= UPLOAD_INTERVAL)
        ):
            self._shown = (fraction, now)
            return True
        return False


def progress_printer(write: Callable[[str], None]) -> Callable[[Mapping[str, Any]], None]:
    """A ``progress`` callback (``Host.run(progress=...)``) for one run: each event in words to
    ``write`` (the CLI's: a line on standard error; Airflow's: the task log), upload events
    thinned by :class:`UploadThrottle`."""
    throttle = UploadThrottle()

    def show(event: Mapping[str, Any]) -> None:
        text = progress_text(event)
        if text is not None and throttle.wanted(event):
            write(text)

    return show
