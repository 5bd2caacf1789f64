"""Load plugin.yaml and the action schemas once, and compile validators once.

plugin.yaml and schemas/ are the single source of truth for the actions: the
hooks, the actions and the CLI read them from here. Nothing in this module
imports requests, and jsonschema is imported only when a validator is first
needed, so discovering the plugin and reading its manifest stay cheap.
"""

import copy
import functools
import json
from importlib import resources
from pathlib import Path

import yaml

from . import __version__


def data_root():
    """Where plugin.yaml, schemas/ and assets/ live.

    Installed, they are package data under ``modulex_pinterest/data``; in a
    bare source checkout (no install) they are at the repository root.
    """
    packaged = resources.files(__package__) / "data"
    if packaged.joinpath("plugin.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent


def read_data_file(relative_path):
    return data_root().joinpath(*relative_path.split("/")).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def raw_manifest():
    """plugin.yaml as written, parsed once."""
    return yaml.safe_load(read_data_file("plugin.yaml"))


@functools.lru_cache(maxsize=None)
def load_schema(relative_path):
    return json.loads(read_data_file(relative_path))


@functools.lru_cache(maxsize=None)
def _manifest():
    manifest = copy.deepcopy(raw_manifest())
    manifest["version"] = __version__
    for action in manifest["actions"]:
        action["input_schema"] = load_schema(action["input_schema"])
        action["output_schema"] = load_schema(action["output_schema"])
    return manifest


def manifest():
    """The manifest as hosts see it: version set, schemas inlined (a copy)."""
    return copy.deepcopy(_manifest())


def plugin_id():
    return raw_manifest()["id"]


@functools.lru_cache(maxsize=None)
def actions_by_name():
    """Action entries of plugin.yaml by name (schema paths, not inlined)."""
    return {action["name"]: action for action in raw_manifest()["actions"]}


def credential_mode(mode):
    for entry in raw_manifest()["credentials"]:
        if entry["mode"] == mode:
            return entry
    return None


@functools.lru_cache(maxsize=None)
def validator(relative_path):
    """A Draft 2020-12 validator for one schema file, compiled once."""
    from jsonschema import Draft202012Validator

    schema = load_schema(relative_path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def input_validator(action_name):
    return validator(actions_by_name()[action_name]["input_schema"])


def output_validator(action_name):
    return validator(actions_by_name()[action_name]["output_schema"])
