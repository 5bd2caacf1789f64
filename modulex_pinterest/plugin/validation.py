"""Turn a node's raw inputs into checked, normalised inputs, or a clear error.

The input schemas say what is allowed; this module applies them and adds the
checks a JSON Schema cannot express safely (see PITFALLS: ``pattern`` uses
``re.search`` and lets ``"12\\n"`` and non-ASCII digits through, and
``format: uri`` accepts ``javascript:``). Errors name the field and the rule.
"""

import re
from urllib.parse import urlsplit

from . import manifest

PAGE_SIZE_MIN = 1
PAGE_SIZE_MAX = 250
MAX_SHOWN_VALUE = 60

# Fields that hold Pinterest IDs and go into URL paths or request bodies.
ID_FIELDS = ("board_id", "board_section_id")
URL_FIELDS = ("media_url", "link")
_ASCII_DIGITS = re.compile(r"[0-9]+\Z")


class InputError(ValueError):
    """Inputs that break the action's input schema; the message is for people."""


def _field_name(error):
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        path.append(missing.group(1) if missing else "?")
    return ".".join(path) or "inputs"


def _shown(value):
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[:MAX_SHOWN_VALUE] + "...'"


def describe_schema_error(error):
    """One line naming the field and the rule it broke."""
    field = _field_name(error)
    rule = error.validator
    expected = error.validator_value
    if rule == "required":
        return f"'{field}' is required"
    if rule == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return "unknown field(s): " + ", ".join(repr(name) for name in extra)
    if rule == "type":
        if field == "inputs":
            return f"inputs must be a JSON object, not {type(error.instance).__name__}"
        return f"'{field}' must be of type {expected}, got {_shown(error.instance)}"
    if rule == "maxLength":
        return f"'{field}' must be at most {expected} characters (got {len(error.instance)})"
    if rule == "minLength":
        return f"'{field}' must not be empty" if expected == 1 else f"'{field}' must be at least {expected} characters"
    if rule == "pattern":
        if field in ID_FIELDS:
            return f"'{field}' must be a Pinterest ID made of digits only, got {_shown(error.instance)}"
        if field in URL_FIELDS:
            return f"'{field}' must be an http(s) URL, got {_shown(error.instance)}"
        return f"'{field}' must match the pattern {expected}, got {_shown(error.instance)}"
    return f"'{field}' is invalid ({rule}): {error.message[:200]}"


def _is_http_url(value):
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def clamp_page_size(value):
    """The product page's rule: out-of-range page sizes are clamped, not rejected."""
    return max(PAGE_SIZE_MIN, min(PAGE_SIZE_MAX, int(value)))


def check_inputs(action_name, inputs):
    """Validate ``inputs`` for ``action_name`` and return a normalised copy.

    Normalising means: schema defaults applied (``page_size`` defaults to the
    largest page with ``fetch_all``), ``page_size`` clamped and made an int, empty optional strings dropped (an empty bookmark means none).
    Raises :class:`InputError` naming the first broken field and its rule.
    """
    if not isinstance(inputs, dict):
        raise InputError(f"inputs must be a JSON object, not {type(inputs).__name__}")
    schema_path = manifest.actions_by_name()[action_name]["input_schema"]
    fast = manifest.fast_check(schema_path)
    if fast is None or not fast(inputs):
        errors = sorted(
            manifest.input_validator(action_name).iter_errors(inputs),
            key=lambda e: (list(map(str, e.absolute_path)), e.validator),
        )
        if errors:
            raise InputError("Invalid input: " + describe_schema_error(errors[0]))

    schema = manifest.load_schema(schema_path)
    checked = {}
    for name, prop in schema["properties"].items():
        value = inputs.get(name, prop.get("default"))
        if value is None or value == "":
            continue
        if name in ID_FIELDS and not _ASCII_DIGITS.match(value):
            raise InputError(f"Invalid input: '{name}' must be a Pinterest ID made of digits only, got {_shown(value)}")
        if name in URL_FIELDS and not _is_http_url(value):
            raise InputError(f"Invalid input: '{name}' must be an http(s) URL with a host, got {_shown(value)}")
        if prop.get("type") == "integer":
            value = int(value)  # 25.0 counts as 25
        if name == "page_size":
            # A whole-list fetch pages at the caller's page_size, or at the largest page when none was given.
            value = clamp_page_size(value if "page_size" in inputs or not inputs.get("fetch_all") else PAGE_SIZE_MAX)
        checked[name] = value
    return checked
