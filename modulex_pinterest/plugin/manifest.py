"""Load plugin.yaml and the action schemas once, and compile validators once.

plugin.yaml and schemas/ are the single source of truth for the actions: the
hooks, the actions and the CLI read them from here. Nothing in this module
imports requests, and jsonschema is imported only when a validator is first
needed, so discovering the plugin and reading its manifest stay cheap.
"""

import copy
import functools
import json
import re
from importlib import resources
from pathlib import Path

import yaml

from .. import __version__


def data_root():
    """Where plugin.yaml, schemas/ and assets/ live.

    Installed, they are package data under ``modulex_pinterest/data``; in a
    bare source checkout (no install) they are at the repository root.
    """
    packaged = resources.files("modulex_pinterest") / "data"
    if packaged.joinpath("plugin.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parents[2]


def read_data_file(relative_path):
    return data_root().joinpath(*relative_path.split("/")).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def raw_manifest():
    """plugin.yaml as written, parsed once."""
    # libyaml's loader when PyYAML has it: the pure-Python one takes ~10x longer on start-up.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(read_data_file("plugin.yaml"), Loader=loader)  # noqa: S506 - a safe loader


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


# ----- a fast path for the common case ------------------------------------
#
# jsonschema walks a schema with a new validator object per keyword and per
# item: about 20 microseconds per pin of a list_pins output, more than the
# whole HTTP exchange costs on loopback. Valid instances are the rule, so each
# schema is also compiled once into a plain predicate for the keywords these
# schemas use. The predicate is conservative: when it says "valid" jsonschema
# would agree; when it says "not sure" (or the schema uses any other keyword)
# jsonschema decides and names the error, so results and messages are unchanged.

_ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description", "default", "examples", "format"})
_TYPE_CHECKS = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}
_SUPPORTED = _ANNOTATIONS | {"type", "anyOf", "properties", "required", "additionalProperties", "items",
                             "pattern", "minLength", "maxLength", "minimum", "maximum",
                             "exclusiveMinimum", "exclusiveMaximum"}


def _always(value):
    return True


def compile_fast_check(schema):
    """A predicate that is True only for instances valid against ``schema``; None if it cannot be compiled."""
    if schema is True or schema == {}:
        return _always
    if not isinstance(schema, dict) or not set(schema) <= _SUPPORTED:
        return None
    checks = []
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else kind
        if not isinstance(kinds, list) or not all(k in _TYPE_CHECKS for k in kinds):
            return None
        type_checks = [_TYPE_CHECKS[k] for k in kinds]
        checks.append(type_checks[0] if len(type_checks) == 1 else (lambda v: any(c(v) for c in type_checks)))
    if "anyOf" in schema:
        options = [compile_fast_check(sub) for sub in schema["anyOf"]]
        if not options or None in options:
            return None
        checks.append(lambda v: any(option(v) for option in options))
    if "pattern" in schema or "minLength" in schema or "maxLength" in schema:
        pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
        low, high = schema.get("minLength", 0), schema.get("maxLength")

        def string_rules(v):
            if type(v) is not str:
                return True  # these keywords apply to strings only
            n = len(v)
            return n >= low and (high is None or n <= high) and (pattern is None or pattern.search(v) is not None)
        checks.append(string_rules)
    bounds = [(key, schema[key]) for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
              if key in schema]
    if bounds:
        if not all(type(limit) in (int, float) for _, limit in bounds):
            return None
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")

        def number_rules(v):
            if type(v) not in (int, float):
                return type(v) is not bool and not isinstance(v, (int, float))  # bool and subclasses: let jsonschema judge
            return ((minimum is None or v >= minimum) and (maximum is None or v <= maximum)
                    and (above is None or v > above) and (below is None or v < below))
        checks.append(number_rules)
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        props = {name: compile_fast_check(sub) for name, sub in schema.get("properties", {}).items()}
        if None in props.values():
            return None
        required = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is False else compile_fast_check(extra)
        if extra is not False and extra_check is None:
            return None
        prop_items = tuple((name, check) for name, check in props.items() if check is not _always)

        def object_rules(v):
            if type(v) is not dict:
                return True
            for name in required:
                if name not in v:
                    return False
            for name, check in prop_items:
                if name in v and not check(v[name]):
                    return False
            if extra is False:
                return all(name in props for name in v)
            if extra_check is not _always:
                return all(extra_check(value) for name, value in v.items() if name not in props)
            return True
        if prop_items or required or extra is False or extra_check is not _always:
            checks.append(object_rules)
    if "items" in schema:
        item_check = compile_fast_check(schema["items"])
        if item_check is None:
            return None
        if item_check is not _always:
            checks.append(lambda v: type(v) is not list or all(item_check(x) for x in v))
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


@functools.lru_cache(maxsize=None)
def fast_check(relative_path):
    """The compiled predicate for one schema file (None when only jsonschema can judge it)."""
    return compile_fast_check(load_schema(relative_path))


def output_errors(action_name, output):
    """The output's schema violations (jsonschema errors); [] at once on the fast path."""
    path = actions_by_name()[action_name]["output_schema"]
    check = fast_check(path)
    if check is not None and check(output):
        return []
    return list(validator(path).iter_errors(output))
