"""Load plugin.yaml and the action schemas once, check the manifest against its
schema, and hand out the typed :class:`.model.Spec`.

plugin.yaml and schemas/ are the single source of truth for the actions: the
hooks, the handlers and the validators read them from here. This module needs
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

from ... import __version__
from .model import Action, Spec
from .schemacheck import ManifestError, SchemaCheck

if TYPE_CHECKING:  # importlib.abc's alias is deprecated from Python 3.12 (importlib.resources.abc: 3.11+)
    from importlib.abc import Traversable

Entry = dict[str, Any]
MANIFEST_SCHEMA = "schemas/manifest.schema.json"


def data_root() -> Traversable | Path:
    """Where plugin.yaml, schemas/ and assets/ live.

    Installed, they are package data under ``modulex_pinterest/data``; in a
    bare source checkout (no install) they are at the repository root.
    """
    packaged = resources.files("modulex_pinterest") / "data"
    if packaged.joinpath("plugin.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parents[3]


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
def spec() -> Spec:
    """plugin.yaml checked against schemas/manifest.schema.json and typed, once per process.
    A manifest that breaks its schema fails here, naming where (:class:`.schemacheck.ManifestError`)."""
    raw = raw_manifest()
    problems = SchemaCheck(load_schema(MANIFEST_SCHEMA)).problems(raw)
    if problems:
        raise ManifestError(f"plugin.yaml breaks {MANIFEST_SCHEMA}: " + "; ".join(problems[:5]))
    return Spec.of(raw)


@functools.cache
def _manifest() -> Entry:
    spec()  # checked before any host sees it
    manifest = copy.deepcopy(raw_manifest())
    manifest["version"] = __version__
    for action in manifest["actions"]:
        action["input_schema"] = load_schema(action["input_schema"])
        action["output_schema"] = load_schema(action["output_schema"])
    for trigger in manifest.get("triggers", []):
        for key in ("input_schema", "event_schema", "output_schema"):
            trigger[key] = load_schema(trigger[key])
    return manifest


def find_action(name: Any) -> Action | None:
    """The action called ``name``, or None (not a string, or not declared)."""
    return spec().actions.get(name) if isinstance(name, str) else None


def manifest() -> Entry:
    """The manifest as hosts see it: version set, schemas inlined (a copy)."""
    return copy.deepcopy(_manifest())


def failed_output(action: Action | None, error: str) -> Entry:
    """A failed output of an action: ``success: false``, the error, and the
    output schema's defaults (empty lists for arrays), so it still validates."""
    output: Entry = {"success": False, "error": error}
    if action is not None:
        output.update({name: copy.copy(value) for name, value in _failed_defaults(action.output_schema).items()})
    return output


@functools.cache
def _failed_defaults(schema_path: str) -> Entry:
    defaults: Entry = {}
    for name, prop in load_schema(schema_path)["properties"].items():
        if name in ("success", "error"):
            continue
        if "default" in prop:
            defaults[name] = prop["default"]
        elif prop.get("type") == "array":
            defaults[name] = []
    return defaults
