"""What the command line says, and how: strict JSON on standard output, one
line per message on standard error, progress lines, and the two ways printing
itself can go wrong (a narrow console encoding, a reader that went away).

Standard error is for people: every error is one line, ``modulex-pinterest:
error: ...``. Standard output is for programs: the JSON result and nothing else.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

PROG = "modulex-pinterest"
MB = 1024 * 1024
UPLOAD_STEP = 0.05  # of the upload: the least progress between two upload lines ...
UPLOAD_INTERVAL = 1.0  # ... and the least time, in seconds


class UsageError(Exception):
    """A mistake in how the command was called (exit 2), unlike an action that failed (exit 1)."""


class Failed(Exception):
    """Something the command was asked to do did not happen (exit 1); the message says what, in one line."""


class OutputError(Failed):
    """An output that strict JSON cannot carry (exit 1): nothing is printed rather than invalid JSON."""


def configure_streams() -> None:
    """Printing never fails on a narrow console encoding (ASCII, a Windows code page):
    what the encoding cannot carry is written as a backslash escape."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (a test's capture), or closed
            pass


def _encodable(text: str) -> bool:
    """Whether standard output's encoding carries ``text`` as it is."""
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        return False
    except LookupError:  # an encoding name Python does not know: assume the best
        return True
    return True


def reader_gone() -> None:
    """Standard output's reader went away (``| head``): point it at the null device,
    so nothing fails when Python flushes it at exit, and carry on quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture)
        pass


def print_json(value: Any) -> None:
    """Print ``value`` as strict JSON (RFC 8259: no NaN or Infinity), or nothing and :class:`OutputError`.

    Non-ASCII text is printed as it is when standard output's encoding carries
    it, else as JSON's own ``\\u`` escapes (still the same JSON). A reader that
    went away is not an error: the command's exit code stays the action's."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        raise OutputError(
            "the output holds a value strict JSON cannot carry (NaN or Infinity, say); nothing was printed"
        ) from None
    if not _encodable(text):
        text = json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)
    try:
        print(text, flush=True)
    except BrokenPipeError:
        reader_gone()


def error_line(message: str) -> None:
    """One line on standard error, ``modulex-pinterest: error: ...`` (line breaks in ``message`` become spaces)."""
    say(f"error: {message}")


def say(message: str) -> None:
    """One line for the person at the terminal, on standard error; never fails the command."""
    try:
        print(f"{PROG}: {' '.join(message.splitlines())}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # standard error closed or gone: nobody to tell
        pass


def refuse_constant(name: str) -> NoReturn:
    """``json.loads``'s ``parse_constant``: NaN and Infinity are not JSON (RFC 8259)."""
    raise ValueError(f"{name} is not a JSON value")


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


def progress_printer(write: Callable[[str], None] = say) -> Callable[[Mapping[str, Any]], None]:
    """A ``progress`` callback (``Host.run(progress=...)``) for one run: each event in words to
    ``write`` (the CLI's: a line on standard error; Airflow's: the task log), upload events
    thinned by :class:`UploadThrottle`."""
    throttle = UploadThrottle()

    def show(event: Mapping[str, Any]) -> None:
        text = progress_text(event)
        if text is not None and throttle.wanted(event):
            write(text)

    return show
