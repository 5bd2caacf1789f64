"""Load plugin.yaml and the action schemas once.

plugin.yaml and schemas/ are the single source of truth for the actions: the
hooks, the actions and the validators read them from here. This module needs
only PyYAML, so discovering the plugin and reading its manifest stay cheap.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import __version__

if TYPE_CHECKING:  # importlib.abc's alias is deprecated from Python 3.12 (importlib.resources.abc: 3.11+)
    from importlib.abc import Traversable

Entry = dict[str, Any]


def data_root() -> Traversable | Path:
    """Where plugin.yaml, schemas/ and assets/ live.

    Installed, they are package data under ``modulex_pinterest/data``; in a
    bare source checkout (no install) they are at the repository root.
    """
    packaged = resources.files("modulex_pinterest") / "data"
    if packaged.joinpath("plugin.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parents[2]


def read_data_file(relative_path: str) -> str:
    return data_root().joinpath(*relative_path.split("/")).read_text(encoding="utf-8")


@functools.cache
def raw_manifest() -> Entry:
    """plugin.yaml as written, parsed once."""
    # libyaml's loader when PyYAML has it: the pure-Python one takes ~10x longer on start-up.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: Entry = yaml.load(read_data_file("plugin.yaml"), Loader=loader)  # noqa: S506 - a safe loader
    return loaded


@functools.cache
def load_schema(relative_path: str) -> Entry:
    loaded: Entry = json.loads(read_data_file(relative_path))
    return loaded


@functools.cache
def _manifest() -> Entry:
    manifest = copy.deepcopy(raw_manifest())
    manifest["version"] = __version__
    for action in manifest["actions"]:
        action["input_schema"] = load_schema(action["input_schema"])
        action["output_schema"] = load_schema(action["output_schema"])
    for trigger in manifest.get("triggers", []):
        for key in ("input_schema", "event_schema", "output_schema"):
            trigger[key] = load_schema(trigger[key])
    return manifest


def manifest() -> Entry:
    """The manifest as hosts see it: version set, schemas inlined (a copy)."""
    return copy.deepcopy(_manifest())


def plugin_id() -> str:
    return str(raw_manifest()["id"])


@functools.cache
def actions_by_name() -> dict[str, Entry]:
    """Action entries of plugin.yaml by name (schema paths, not inlined)."""
    return {action["name"]: action for action in raw_manifest()["actions"]}


def action(name: str) -> Entry:
    """One action's entry of plugin.yaml; a KeyError for a name it does not declare."""
    return actions_by_name()[name]


@functools.cache
def triggers_by_name() -> dict[str, Entry]:
    """Trigger entries of plugin.yaml by name (schema paths, not inlined)."""
    return {trigger["name"]: trigger for trigger in raw_manifest().get("triggers", [])}


def trigger(name: str) -> Entry:
    """One trigger's entry of plugin.yaml; a KeyError for a name it does not declare."""
    return triggers_by_name()[name]


def credential_mode(mode: str) -> Entry | None:
    for entry in raw_manifest()["credentials"]:
        if entry["mode"] == mode:
            return dict(entry)
    return None


def failed_output(action_name: str, error: str) -> Entry:
    """A failed output of an action: ``success: false``, the error, and the
    output schema's defaults (empty lists for arrays), so it still validates."""
    output: Entry = {"success": False, "error": error}
    entry = actions_by_name().get(action_name)
    if entry is None:
        return output
    for name, prop in load_schema(entry["output_schema"])["properties"].items():
        if name in output:
            continue
        if "default" in prop:
            output[name] = prop["default"]
        elif prop.get("type") == "array":
            output[name] = []
    return output
