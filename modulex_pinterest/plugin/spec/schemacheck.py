"""plugin.yaml against schemas/manifest.schema.json, at every load, in about a millisecond.

jsonschema costs about 300 ms of start-up per process and fastjsonschema's
compile about 120 ms, paid by every CLI call and every Airflow task that only
discovers the plugin. The manifest's schema uses a handful of keywords, so
this checks exactly those, and refuses a schema that uses any other (a test
holds its verdicts to jsonschema's on broken manifests): a keyword added to
the schema can never be silently ignored here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]
ANNOTATIONS = frozenset({"$schema", "title", "description", "default", "$defs"})
TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class ManifestError(ValueError):
    """plugin.yaml breaks its schema; the message names where (``actions[3].request.method``)."""


def _where(path: tuple[str | int, ...]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    return text or "the manifest"


class SchemaCheck:
    """One schema document, with its ``$defs``, applied to instances."""

    def __init__(self, root: Schema) -> None:
        self._root = root

    def problems(self, instance: Any) -> list[str]:
        found: list[str] = []
        self._check(self._root, instance, (), found)
        return found

    def _resolve(self, ref: str) -> Schema:
        if not ref.startswith("#/$defs/"):
            raise ManifestError(f"the manifest schema's $ref {ref!r} is not a local #/$defs/ reference")
        resolved: Schema = self._root["$defs"][ref.removeprefix("#/$defs/")]
        return resolved

    def _check(self, schema: Schema, value: Any, path: tuple[str | int, ...], found: list[str]) -> None:
        for keyword, expected in schema.items():
            if keyword in ANNOTATIONS or keyword in ("then", "properties", "additionalProperties", "items"):
                continue
            check = KEYWORDS.get(keyword)
            if check is None:
                raise ManifestError(f"the manifest schema uses {keyword!r}, which schemacheck does not apply")
            problem = check(self, schema, expected, value, path, found)
            if problem:
                found.append(f"{_where(path)}: {problem}")
        if isinstance(value, dict):
            self._object(schema, value, path, found)
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                self._check(schema["items"], item, (*path, index), found)

    def _object(self, schema: Schema, value: dict[str, Any], path: tuple[str | int, ...], found: list[str]) -> None:
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                self._check(properties[key], item, (*path, key), found)
            elif extra is False:
                found.append(f"{_where((*path, key))}: unknown key (allowed: {', '.join(properties)})")
            elif isinstance(extra, dict):
                self._check(extra, item, (*path, key), found)


Keyword = Callable[[SchemaCheck, Schema, Any, Any, tuple[str | int, ...], list[str]], "str | None"]


def _type(_: SchemaCheck, __: Schema, expected: Any, value: Any, *___: Any) -> str | None:
    names = expected if isinstance(expected, list) else [expected]
    if any(TYPES[name](value) for name in names):
        return None
    return f"must be {' or '.join(names)}, not {type(value).__name__}"


def _required(_: SchemaCheck, __: Schema, names: list[str], value: Any, *___: Any) -> str | None:
    missing = [name for name in names if isinstance(value, dict) and name not in value]
    return f"missing {', '.join(missing)}" if missing else None


def _enum(_: SchemaCheck, __: Schema, allowed: list[Any], value: Any, *___: Any) -> str | None:
    return None if value in allowed else f"{value!r} is not one of {allowed}"


def _const(_: SchemaCheck, __: Schema, allowed: Any, value: Any, *___: Any) -> str | None:
    return None if value == allowed else f"must be {allowed!r}"


def _pattern(_: SchemaCheck, __: Schema, pattern: str, value: Any, *___: Any) -> str | None:
    if not isinstance(value, str) or re.search(pattern, value):
        return None
    return f"{value!r} does not match {pattern}"


def _bound(name: str, holds: Callable[[float, float], bool]) -> Keyword:
    def check(_: SchemaCheck, __: Schema, limit: float, value: Any, *___: Any) -> str | None:
        if not TYPES["number"](value) or holds(value, limit):
            return None
        return f"{value!r} breaks {name} {limit}"

    return check


def _size(name: str, measure: type[str] | type[list[Any]], holds: Callable[[int, int], bool]) -> Keyword:
    def check(_: SchemaCheck, __: Schema, limit: int, value: Any, *___: Any) -> str | None:
        if not isinstance(value, measure) or holds(len(value), limit):
            return None
        return f"breaks {name} {limit} (has {len(value)})"

    return check


def _unique(_: SchemaCheck, __: Schema, unique: bool, value: Any, *___: Any) -> str | None:
    if not unique or not isinstance(value, list) or len({repr(item) for item in value}) == len(value):
        return None
    return "holds the same item twice"


def _ref(check: SchemaCheck, _: Schema, ref: str, value: Any, path: tuple[str | int, ...], found: list[str]) -> None:
    check._check(check._resolve(ref), value, path, found)
    return None


def _if(
    check: SchemaCheck, schema: Schema, condition: Schema, value: Any, path: tuple[str | int, ...], found: list[str]
) -> None:
    if not SchemaCheck(dict(condition, **{"$defs": check._root.get("$defs", {})})).problems(value):
        check._check(schema.get("then", {}), value, path, found)
    return None


KEYWORDS: dict[str, Keyword] = {
    "type": _type,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minimum": _bound("minimum", lambda value, limit: value >= limit),
    "exclusiveMinimum": _bound("exclusiveMinimum", lambda value, limit: value > limit),
    "maximum": _bound("maximum", lambda value, limit: value <= limit),
    "minLength": _size("minLength", str, lambda size, limit: size >= limit),
    "minItems": _size("minItems", list, lambda size, limit: size >= limit),
    "maxItems": _size("maxItems", list, lambda size, limit: size <= limit),
    "uniqueItems": _unique,
    "$ref": _ref,
    "if": _if,
}
