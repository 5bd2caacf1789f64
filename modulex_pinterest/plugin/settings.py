"""The host's settings for this plugin: declared in plugin.yaml, applied here.

plugin.yaml's ``settings`` list names each setting once, with its type, bounds,
default and description; :func:`declarations` is the one place that reads it,
and :class:`Settings` applies it: the generic checks (type, bounds) come from
the declarations, the special rules stay code: ``base_url`` and ``token_url``
must be https unless their host is loopback (a token is never sent in clear
text), a custom ``base_url`` moves the token endpoint with it, ``timeout`` may
be a ``[connect, read]`` pair, ``file_roots`` are resolved once.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .spec import manifest
from .spec.model import Setting

LOOPBACK_NAMES = frozenset({"localhost"})


def declarations() -> dict[str, Setting]:
    """plugin.yaml's settings by name, typed (:class:`~.spec.model.Setting`): the one place this
    module reads the manifest."""
    return manifest.spec().settings


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: the only hosts plain http may reach."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=64)  # a pure function of the strings, called on every action
def check_base_url(url: str, name: str = "base_url") -> str:
    """Refuse a URL (setting ``name``) that would send a token in clear text or carry extra parts.

    https is required unless the host is loopback (the embedded sandbox).
    Returns the URL without a trailing slash.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"setting '{name}' must be an http(s) URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"setting '{name}' must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"setting '{name}' must use https unless its host is loopback (127.0.0.1, ::1, localhost)")
    return url.rstrip("/")


def requirement(entry: Setting, json_type: str | None = None) -> str:
    """What a value of the declared setting must be, in words: "a positive number of seconds"."""
    json_type = json_type or entry.types[0]
    if json_type == "boolean":
        return "true or false"
    noun = {"integer": "integer", "number": "number", "string": "string", "array": "list"}[json_type]
    if entry.exclusive_minimum == 0:
        noun = f"positive {noun}"
    elif entry.minimum == 0:
        noun = f"non-negative {noun}"
    words = ("an " if noun[0] in "aeiou" else "a ") + noun
    if entry.unit:
        words += f" of {entry.unit}"
    if entry.exclusive_minimum:
        words += f" above {entry.exclusive_minimum:g}"
    if entry.minimum:
        words += f" of at least {entry.minimum:g}"
    return words


def check_value(entry: Setting, value: Any) -> Any:
    """``value`` of the declared setting ``entry``, checked by its type(s) and bounds (a ValueError
    naming the setting); ``None`` is its default (a list default is copied)."""
    if value is None:
        return list(entry.default) if isinstance(entry.default, tuple) else entry.default
    for json_type in entry.types:
        if json_type in _json_types(value):
            if json_type in ("integer", "number") and not _within(entry, value):
                raise ValueError(f"setting '{entry.name}' must be {requirement(entry, json_type)}")
            return value
    raise ValueError(f"setting '{entry.name}' must be {requirement(entry)}")


class Settings:
    """The host's settings for this plugin: given values checked, the others the declared defaults;
    unknown keys are ignored. A refused value is a ValueError naming the setting."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        given = settings or {}
        declared = declarations()

        def value(name: str) -> Any:
            return check_value(declared[name], given.get(name))

        self.base_url = check_base_url(value("base_url"))
        self.timeout = _timeouts(declared["timeout"], given.get("timeout"))
        self.max_retries: int = value("max_retries")
        self.deadline = float(value("deadline"))
        self.max_wait = float(value("max_retry_wait"))
        self.backoff = float(value("retry_backoff"))
        self.rate_limit = float(value("rate_limit"))
        self.token_url = _token_url(given.get("token_url"), self.base_url, declared)
        # Local files the media actions may read: only under these directories (none: every path refused).
        self.file_roots = _file_roots(declared["file_roots"], given.get("file_roots"))
        # URLs the plugin itself downloads (video_url) may reach loopback/private addresses only when set.
        self.allow_private_network: bool = value("allow_private_network")

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, timeout={self.timeout!r}, deadline={self.deadline:g})"


def _json_types(value: Any) -> frozenset[str]:
    """The JSON Schema types a Python value has (a bool is no number here)."""
    if isinstance(value, bool):
        return frozenset({"boolean"})
    if isinstance(value, int):
        return frozenset({"integer", "number"})
    if isinstance(value, float):
        return frozenset({"number"})
    if isinstance(value, str):
        return frozenset({"string"})
    return frozenset({"array"}) if isinstance(value, (list, tuple)) else frozenset()


def _within(entry: Setting, number: float) -> bool:
    """A finite number inside the declared bounds."""
    if not math.isfinite(number):
        return False
    if entry.minimum is not None and number < entry.minimum:
        return False
    return not (entry.exclusive_minimum is not None and number <= entry.exclusive_minimum)


def _token_url(given: Any, base_url: str, declared: dict[str, Setting]) -> str | None:
    """The token endpoint: ``token_url`` when the host sets it; else the manifest's, moved beside a
    ``base_url`` other than the manifest's (the sandbox, a proxy): its path under the manifest's base URL."""
    if given is not None:
        return check_base_url(check_value(declared["token_url"], given), "token_url")
    default: str | None = declared["token_url"].default
    production = check_base_url(declared["base_url"].default)
    if default is None or base_url == production:
        return default
    if not default.startswith(production + "/"):  # nowhere to move it: never send a sandbox grant to Pinterest
        raise ValueError("setting 'token_url' must be given with this base_url (the manifest's is not under its own)")
    return check_base_url(base_url + default[len(production) :], "token_url")


def _timeouts(entry: Setting, value: Any) -> tuple[float, float]:
    """``timeout``: one number (the read timeout; connecting takes at most the default's) or [connect, read]."""
    connect, read = (float(seconds) for seconds in entry.default)
    checked = check_value(entry, value)
    if value is None:
        return connect, read
    if isinstance(checked, (list, tuple)):
        number = dataclasses.replace(entry, types=("number",))
        if len(checked) != 2:
            raise ValueError(f"setting 'timeout' must be {requirement(entry)}, or two: [connect, read]")
        return float(check_value(number, checked[0])), float(check_value(number, checked[1]))
    return min(float(checked), connect), float(checked)


def _file_roots(entry: Setting, value: Any) -> tuple[Path, ...]:
    """``file_roots``: a list of directories, each resolved (symlinks, ``..``) once, here."""
    value = check_value(entry, value)
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"setting 'file_roots' must be {requirement(entry)}")
    roots = []
    for item in value:
        if "\x00" in item:
            raise ValueError("setting 'file_roots' holds a path with a NUL character")
        root = Path(item).resolve()
        if not root.is_dir():
            raise ValueError(f"setting 'file_roots': {item[:80]!r} is not a directory")
        roots.append(root)
    return tuple(roots)
