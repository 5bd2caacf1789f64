"""Local files and inline data for the media actions: where they may come from, and what they hold.

Local files are a privilege of the host: a path is read only when it lies,
once resolved (symlinks and ``..`` followed), under one of the host's
``file_roots`` (none by default, so every path is refused). What is read is
what was checked: the resolved path holds no symlink, and it is opened one
component at a time from the root's own descriptor (``openat`` with
``O_NOFOLLOW``), so a folder swapped for a symlink after the check makes the
open fail instead of leading outside the roots. Only a regular file is opened
(by ``lstat`` first, so a device or FIFO is never opened), without blocking
(``O_NONBLOCK``), and the descriptor's ``fstat`` decides. Content is checked
by its first bytes, not its name: JPEG or PNG for images, an ISO media file
(MP4, MOV: ``ftyp`` at offset 4) for video; and against the limits stated in
plugin.yaml's ``media_limits``. Every refusal is an :class:`~.errors.InputError`
naming the field.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import stat
from pathlib import Path
from typing import IO

from ..errors import InputError
from ..messages import setting, shown
from ..spec import manifest

SNIFF_BYTES = 12
IMAGE_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
QUICKTIME_BRAND = b"qt  "


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def image_type(head: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` by the magic bytes, else None."""
    for content_type, magic in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return content_type
    return None


def video_type(head: bytes) -> str | None:
    """``video/quicktime`` or ``video/mp4`` for an ISO base media file (``ftyp`` at offset 4), else None."""
    if len(head) < SNIFF_BYTES or head[4:8] != b"ftyp":
        return None
    return "video/quicktime" if head[8:12] == QUICKTIME_BRAND else "video/mp4"


def check_image(field: str, head: bytes, size: int) -> str:
    """The image's content type, after checking its type and size; an InputError naming ``field`` otherwise."""
    limits = manifest.spec().media_limits
    content_type = image_type(head)
    if content_type is None or content_type not in limits.image_types:
        raise InputError(f"Invalid input: '{field}' is not a JPEG or PNG image (checked by its first bytes)")
    if size > limits.image_max_bytes:
        raise InputError(
            f"Invalid input: '{field}' is {megabytes(size)}, over Pinterest's {megabytes(limits.image_max_bytes)} "
            "limit for an image"
        )
    return content_type


def check_video(field: str, head: bytes, size: int | None) -> str:
    """The video's content type, after checking its type and (when known) size."""
    limits = manifest.spec().media_limits
    content_type = video_type(head)
    if content_type is None:
        raise InputError(f"Invalid input: '{field}' is not an MP4 or MOV video (no 'ftyp' box at its start)")
    if size is not None and size > limits.video_max_bytes:
        raise InputError(
            f"Invalid input: '{field}' is {megabytes(size)}, over Pinterest's {megabytes(limits.video_max_bytes)} "
            "limit for a video"
        )
    return content_type


def allowed_path(field: str, value: str, roots: tuple[Path, ...]) -> Path:
    """``value`` resolved (symlinks, ``..``; relative to the current directory), if under one of ``roots``."""
    if not roots:
        raise InputError(
            f"Invalid input: '{field}': this host allows no local files "
            f"(allow a directory with {setting('file_roots')})"
        )
    if "\x00" in value:
        raise InputError(f"Invalid input: '{field}' holds a NUL character")
    try:
        resolved = Path(value).resolve(strict=True)
    except FileNotFoundError:
        raise InputError(f"Invalid input: '{field}': no such file {shown(value)}") from None
    except (OSError, RuntimeError):  # a symlink loop, a name too long, no permission on a parent
        raise InputError(f"Invalid input: '{field}': {shown(value)} cannot be resolved") from None
    if not any(resolved.is_relative_to(root) for root in roots):
        raise InputError(
            f"Invalid input: '{field}' {shown(value)} is outside the directories this host allows "
            f"(allow its directory with {setting('file_roots')})"
        )
    return resolved


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE = (
    os.O_RDONLY
    | _NOFOLLOW
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO or device swapped in at the last moment cannot block the open
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHANGED = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)  # what O_NOFOLLOW answers for a symlink


def _open_beneath(path: Path) -> int:
    """A descriptor for ``path`` (resolved: no symlink in it), opened from ``/`` one component at
    a time with ``O_NOFOLLOW``: each directory by the descriptor of the one before, so nothing
    replaced after the check can lead elsewhere. ``OSError`` when a component is missing or has
    become a symlink; a :class:`_NotRegular` for anything but a regular file, which is not opened."""
    parts = path.parts
    if len(parts) < 2:
        raise _NotRegular  # "/"
    fd = os.open(parts[0], _DIRECTORY)
    try:
        for name in parts[1:-1]:
            parent, fd = fd, os.open(name, _DIRECTORY, dir_fd=fd)
            os.close(parent)
        info = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISLNK(info.st_mode):
            raise _NotRegular  # never opened: opening a device or FIFO may act or block
        parent, fd = fd, os.open(parts[-1], _FILE, dir_fd=fd)
        os.close(parent)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _NotRegular(Exception):
    pass


def open_allowed(field: str, value: str, roots: tuple[Path, ...]) -> tuple[IO[bytes], int]:
    """The file at ``value`` open for reading, and its size: a regular file under ``roots``.

    The resolved path is opened by :func:`_open_beneath` where the system offers ``dir_fd``
    (POSIX), else directly without following a final symlink; either way without blocking,
    and what was opened must be a regular file by its descriptor (not a FIFO, socket,
    device or directory, which never end or cannot be read as one).
    """
    path = allowed_path(field, value, roots)
    not_regular = InputError(f"Invalid input: '{field}' {shown(value)} is not a regular file")
    try:
        if os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd:
            fd = _open_beneath(path)
        else:
            fd = os.open(path, _FILE)
    except _NotRegular:
        raise not_regular from None
    except OSError as exc:
        if exc.errno in _CHANGED:
            raise InputError(
                f"Invalid input: '{field}' {shown(value)} cannot be opened: its path changed while it was opened "
                "(a part of it replaced by a symlink)"
            ) from None
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket (or a device) in the last instant
            raise not_regular from None
        raise InputError(f"Invalid input: '{field}' {shown(value)} cannot be opened ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise not_regular
    return os.fdopen(fd, "rb"), info.st_size


def read_image_file(field: str, value: str, roots: tuple[Path, ...]) -> tuple[str, str]:
    """(content type, base64 data) of a local image, checked before it is read whole."""
    handle, size = open_allowed(field, value, roots)
    with handle:
        head = handle.read(SNIFF_BYTES)
        content_type = check_image(field, head, size)
        data = head + handle.read(size)  # at most the limit: the size was checked
    if len(data) > manifest.spec().media_limits.image_max_bytes:
        raise InputError(f"Invalid input: '{field}' grew past the image limit while it was read")
    return content_type, base64.b64encode(data).decode("ascii")


def check_image_base64(field: str, data: str, content_type: str | None) -> tuple[str, str]:
    """(content type, data) of inline base64 image data, decoded to check its type, size and declared type."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"Invalid input: '{field}' is not valid base64") from None
    actual = check_image(field, raw[:SNIFF_BYTES], len(raw))
    if content_type is not None and content_type != actual:
        raise InputError(
            f"Invalid input: 'content_type' says {content_type} but '{field}' holds {actual} (by its first bytes)"
        )
    return actual, data
