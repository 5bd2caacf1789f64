"""What a plugin's manifest declares about its host settings, read the same way by every face
(the command line's flags, an Airflow connection's extra, a Langflow node's advanced fields)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def declared_settings(manifest: Mapping[str, Any], face: str) -> list[dict[str, Any]]:
    """The settings a plugin's manifest (as the host gives it) offers on ``face`` (``"cli"``,
    ``"airflow"``, ``"langflow"``), in its order: entries of its ``settings`` list whose ``faces`` name it."""
    return [dict(entry) for entry in manifest.get("settings") or () if face in entry.get("faces", ())]


def declared_default(manifest: Mapping[str, Any], entry: Mapping[str, Any]) -> Any:
    """A declared setting's default: its ``default``, or the manifest value its ``default_from``
    names (a dotted path: ``api.rate_limit``); ``None`` when it has neither."""
    if "default_from" not in entry:
        return entry.get("default")
    node: Any = manifest
    for key in str(entry["default_from"]).split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node
