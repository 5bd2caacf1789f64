"""Inputs and outputs against the action's schemas, with messages for people.

The schemas in ``schemas/`` state every rule; this module applies them. Two
rules a JSON Schema ``pattern`` cannot state safely (jsonschema applies a
``pattern`` with ``re.search``, so ``"12\\n"`` and non-ASCII digits pass, and
``format: uri`` accepts ``javascript:``) are the formats ``pinterest-id`` and ``http-url``,
defined once below with their wording and used by both validators.

Each schema is compiled once by fastjsonschema (microseconds per check, for
the common valid case); when it rejects, jsonschema names the broken field
and rule. Both get the same formats, so they judge alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import fastjsonschema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

from ..errors import InputError
from ..messages import MAX_DETAIL, shown
from . import manifest
from .model import Action

PAGE_SIZE_MIN = 1
PAGE_SIZE_MAX = 250
_ASCII_DIGITS = re.compile(r"[0-9]*\Z")
_WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def is_pinterest_id(value: object) -> bool:
    """ASCII digits only, nothing after them (an empty string is left to ``minLength``)."""
    return not isinstance(value, str) or _ASCII_DIGITS.match(value) is not None


def http_url_problem(value: object) -> str | None:
    """Why ``value`` is not an http(s) URL with a host, or None when it is one
    (or is not a string, or is empty: those are other rules' business)."""
    if not isinstance(value, str) or value == "":
        return None
    if value != value.strip():
        return "it has whitespace around it"
    if _WHITESPACE_OR_CONTROL.search(value):
        return "it contains whitespace or a control character"
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "it cannot be parsed as a URL"
    if parts.scheme.lower() not in ("http", "https"):
        return f"its scheme is {parts.scheme!r}, not http or https" if parts.scheme else "it has no scheme"
    if not host:
        return "it has no host"
    if parts.username is not None or parts.password is not None:
        return "it carries a user name or password (user:password@)"
    return None


def is_http_url(value: object) -> bool:
    return http_url_problem(value) is None


def is_one_line_text(value: object) -> bool:
    """Not blank, and no control characters (newlines, NUL, ...); an empty string is left to ``minLength``."""
    return not isinstance(value, str) or value == "" or (not value.isspace() and value.isprintable())


_CALENDAR_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def is_calendar_date(value: object) -> bool:
    """A real day written YYYY-MM-DD, nothing else (not 2026-02-30, not 20261101)."""
    if not isinstance(value, str):
        return True
    if not _CALENDAR_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# format name -> (check, what a valid value is, for messages)
FORMATS: dict[str, tuple[Callable[[object], bool], str]] = {
    "pinterest-id": (is_pinterest_id, "a Pinterest ID made of digits only"),
    "http-url": (is_http_url, "an http(s) URL with a host"),
    "one-line-text": (is_one_line_text, "one line of text, not blank, without control characters"),
    "calendar-date": (is_calendar_date, "a date written YYYY-MM-DD"),
}


@functools.cache
def _compiled(schema_path: str) -> Callable[[Any], Any]:
    """The fast check for one schema file: returns on success, raises on failure."""
    formats = {name: check for name, (check, _) in FORMATS.items()}
    return fastjsonschema.compile(manifest.load_schema(schema_path), formats=formats, use_default=False)


@functools.cache
def _validator(schema_path: str) -> Draft202012Validator:
    """jsonschema, which names what is wrong. It is needed only once fastjsonschema
    has rejected something, so it is imported then (30 ms of start-up otherwise)."""
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=())
    for name, (check, _) in FORMATS.items():
        checker.checks(name)(check)
    schema = manifest.load_schema(schema_path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=checker)


def schema_errors(schema_path: str, instance: Any) -> list[ValidationError]:
    """``instance``'s violations of the schema, most useful first; [] at once when it is valid."""
    try:
        _compiled(schema_path)(instance)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    errors = _validator(schema_path).iter_errors(instance)
    # Per field, a format error (the strict rule, with the clearer message) before a pattern error.
    return sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.validator != "format", e.validator))


def output_errors(action: Action, output: Any) -> list[ValidationError]:
    return schema_errors(action.output_schema, output)


def _field_name(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        path.append(missing.group(1) if missing else "?")
    return ".".join(path) or "inputs"


def schema_error_message(error: ValidationError) -> str:
    """One line naming the field and the rule it broke."""
    field = _field_name(error)
    rule = error.validator
    expected = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    value_format = schema.get("format")
    if rule == "required":
        return f"'{field}' is required"
    if rule == "additionalProperties":
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        return "unknown field(s): " + ", ".join(repr(name) for name in extra)
    if rule == "type":
        if field == "inputs":
            return f"inputs must be a JSON object, not {type(instance).__name__}"
        return f"'{field}' must be of type {expected}, got {shown(instance)}"
    if rule == "maxLength":
        return f"'{field}' must be at most {expected} characters (got {len(instance)})"
    if rule == "minLength":
        return f"'{field}' must not be empty" if expected == 1 else f"'{field}' must be at least {expected} characters"
    if rule in ("format", "pattern") and value_format in FORMATS:
        reason = http_url_problem(instance) if value_format == "http-url" else None
        because = f" ({reason})" if reason else ""
        return f"'{field}' must be {FORMATS[value_format][1]}{because}, got {shown(instance)}"
    if rule in ("minItems", "maxItems"):
        least = "least" if rule == "minItems" else "most"
        return f"'{field}' must hold at {least} {expected} item(s), got {len(instance)}"
    if rule in ("minimum", "maximum"):
        return f"'{field}' must be at {'least' if rule == 'minimum' else 'most'} {expected}, got {shown(instance)}"
    if rule == "pattern":
        return f"'{field}' must match the pattern {expected}, got {shown(instance)}"
    return f"'{field}' is invalid ({rule}): {error.message[:MAX_DETAIL]}"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def clamp_page_size(value: int) -> int:
    """The product page's rule: out-of-range page sizes are clamped, not rejected."""
    return max(PAGE_SIZE_MIN, min(PAGE_SIZE_MAX, int(value)))


def check_inputs(action: Action, inputs: Any) -> dict[str, Any]:
    """Validate ``inputs`` for ``action`` and return a normalised copy.

    Normalising means: schema defaults applied, ``page_size`` clamped and made
    an int (a whole-list fetch without a ``page_size`` pages at the largest
    size), empty optional strings dropped (an empty bookmark means none).
    Raises :class:`InputError` naming the first broken field and its rule.
    """
    if not isinstance(inputs, dict):
        raise InputError(f"Invalid input: inputs must be a JSON object, not {type(inputs).__name__}")
    try:
        errors = schema_errors(action.input_schema, inputs)
    except RecursionError:
        raise InputError("Invalid input: the inputs are nested too deeply") from None
    if errors:
        raise InputError("Invalid input: " + schema_error_message(errors[0]))
    checked = {}
    for name, prop in manifest.load_schema(action.input_schema)["properties"].items():
        value = inputs.get(name, prop.get("default"))
        if value is None or value == "":
            continue
        if isinstance(value, str) and not _encodable(value):
            raise InputError(
                f"Invalid input: '{name}' holds characters that cannot be sent as UTF-8 "
                "(a lone surrogate, U+D800 to U+DFFF)"
            )
        if prop.get("type") == "integer":
            value = int(value)  # 25.0 counts as 25
        if name == "page_size":
            value = clamp_page_size(value if "page_size" in inputs or not inputs.get("fetch_all") else PAGE_SIZE_MAX)
        checked[name] = value
    return checked
