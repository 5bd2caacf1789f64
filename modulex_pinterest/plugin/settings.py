"""The host's settings for this plugin: defaults, checks, and where requests may go.

A setting that would send a token in clear text (``base_url`` or ``token_url``
on plain http to anything but loopback) is refused here, once, for the API
and the token endpoint alike.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_DEADLINE = 120.0
DEFAULT_MAX_WAIT = 60.0
DEFAULT_BACKOFF = 0.5
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: the only hosts plain http may reach."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=64)  # a pure function of the string, called on every action
def check_base_url(base_url: str) -> str:
    """Refuse a URL that would send a token in clear text or carry extra parts.

    https is required unless the host is loopback (the embedded sandbox).
    Returns the URL without a trailing slash.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an http(s) URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("base_url must use https unless its host is loopback (127.0.0.1, ::1, localhost)")
    return base_url.rstrip("/")


class Settings:
    """The host's settings for this plugin, with defaults; unknown keys are ignored.

    ``defaults`` come from plugin.yaml: the API's ``base_url``, the OAuth
    ``token_url`` and the ``rate_limit`` (requests per second per grant).
    """

    def __init__(
        self, settings: Mapping[str, Any] | None, *, base_url: str, token_url: str | None, rate_limit: float
    ) -> None:
        settings = settings or {}
        self.base_url = check_base_url(str(settings.get("base_url") or base_url))
        self.timeout = _timeouts(settings.get("timeout"))
        self.max_retries = _non_negative_int(settings.get("max_retries"), DEFAULT_MAX_RETRIES, "max_retries")
        self.deadline = _positive_float(settings.get("deadline"), DEFAULT_DEADLINE, "deadline")
        self.max_wait = _positive_float(settings.get("max_retry_wait"), DEFAULT_MAX_WAIT, "max_retry_wait")
        self.backoff = _positive_float(settings.get("retry_backoff"), DEFAULT_BACKOFF, "retry_backoff")
        self.rate_limit = _positive_float(
            settings.get("rate_limit"), rate_limit, "rate_limit", "number of requests per second"
        )
        # A custom base_url (the sandbox, a proxy) has its token endpoint beside it.
        chosen = settings.get("token_url") or (
            f"{self.base_url}/oauth/token" if settings.get("base_url") else token_url
        )
        self.token_url = check_base_url(str(chosen)) if chosen else None
        # Local files the media actions may read: only under these directories (none: every path refused).
        self.file_roots = _file_roots(settings.get("file_roots"))
        # URLs the plugin itself downloads (video_url) may reach loopback/private addresses only when set.
        self.allow_private_network = _flag(settings.get("allow_private_network"), "allow_private_network")

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, timeout={self.timeout!r}, deadline={self.deadline:g})"


def _positive_float(value: Any, default: float | None, name: str, unit: str = "number of seconds") -> float:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"setting '{name}' must be a positive {unit}")
    return float(value)


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError(f"setting '{name}' must be true or false")
    return value


def _file_roots(value: Any) -> tuple[Path, ...]:
    """``file_roots``: a list of directories, each resolved (symlinks, ``..``) once, here."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError("setting 'file_roots' must be a list of directory paths")
    roots = []
    for item in value:
        if "\x00" in item:
            raise ValueError("setting 'file_roots' holds a path with a NUL character")
        root = Path(item).resolve()
        if not root.is_dir():
            raise ValueError(f"setting 'file_roots': {item[:80]!r} is not a directory")
        roots.append(root)
    return tuple(roots)


def _non_negative_int(value: Any, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"setting '{name}' must be a non-negative integer")
    return value


def _timeouts(value: Any) -> tuple[float, float]:
    """``timeout``: one number (the read timeout; connecting gets at most the default) or [connect, read]."""
    if value is None:
        return DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return _positive_float(value[0], None, "timeout"), _positive_float(value[1], None, "timeout")
    seconds = _positive_float(value, None, "timeout")
    return min(seconds, DEFAULT_CONNECT_TIMEOUT), seconds
