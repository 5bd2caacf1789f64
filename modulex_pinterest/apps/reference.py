"""The reference page of the actions and triggers, generated from the manifest.

``docs/actions.md`` is not written by hand: it is :func:`render` of the
manifest as a host sees it (``Host().manifest("pinterest")``), so the page
says what the plugin declares and nothing else. Regenerate it after changing
``plugin.yaml`` or ``schemas/``::

    python -m modulex_pinterest.apps.reference docs/actions.md

Without a path the page goes to stdout. ``tests/test_docs.py`` checks that
the committed page equals the rendered one.

For each action: its name, title, description, the Pinterest call, the
scopes and its input fields (name, type, whether required, description) from
its input schema; for each trigger the same, plus the recommended poll
interval and the fields of one event. When the manifest has a top-level
``settings`` list (entries with ``name``, ``type``, ``default`` and
``description``), a settings table too.

Pure: the standard library and the reference host.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import PLUGIN

COMMAND = "python -m modulex_pinterest.apps.reference docs/actions.md"


def _cell(text: object) -> str:
    """Text for one table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(value: object) -> str:
    """A JSON value as inline code (``25``, ``false``, ``"PUBLIC"`` shown as `PUBLIC`)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`"


def _type(schema: Mapping[str, Any]) -> str:
    """A field's type in a few words: ``string``, ``array of string (2 to 5)``, ``one of `A`, `B```..."""
    if "enum" in schema:
        kind = "one of " + ", ".join(_code(value) for value in schema["enum"])
    elif schema.get("type") == "array":
        items = schema.get("items", {})
        kind = f"array of {items.get('type', 'any')}"
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None and high is not None:
            kind += f" ({low} to {high})"
        elif high is not None:
            kind += f" (at most {high})"
    else:
        declared = schema.get("type", "any")
        kind = " or ".join(declared) if isinstance(declared, list) else str(declared)
        if kind == "integer" and "minimum" in schema and "maximum" in schema:
            kind += f" ({schema['minimum']} to {schema['maximum']})"
    if "default" in schema:
        kind += f", default {_code(schema['default'])}"
    return kind


def _fields(schema: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str, bool, str]]:
    """(name, type, required, description) of each property, in the schema's order; the
    fields of an array of objects follow as ``name[].field``."""
    required = set(schema.get("required", ()))
    for name, field in schema.get("properties", {}).items():
        yield prefix + name, _type(field), name in required, field.get("description", "")
        items = field.get("items", {})
        if field.get("type") == "array" and items.get("type") == "object":
            yield from _fields(items, f"{prefix}{name}[].")


def _fields_table(schema: Mapping[str, Any], what: str) -> list[str]:
    rows = list(_fields(schema))
    if not rows:
        return [f"No {what}."]
    lines = [f"| {what} | type | required | description |", "|---|---|---|---|"]
    for name, kind, required, description in rows:
        lines.append(f"| `{name}` | {_cell(kind)} | {'yes' if required else ''} | {_cell(description)} |")
    return lines


def _calls(request: Mapping[str, Any]) -> str:
    """The Pinterest call: ``GET /boards/{board_id}/pins``, and any other path the request may take."""
    method = request.get("method", "")
    calls = [f"`{method} {request['path']}`"]
    for key, path in request.items():
        if key.endswith("_path") and isinstance(path, str):
            calls.append(f"`{method} {path}` ({key.removesuffix('_path').replace('_', ' ')})")
    return ", or ".join(calls)


def _scopes(scopes: Sequence[str]) -> str:
    return " ".join(f"`{scope}`" for scope in scopes) or "none"


def _entry(item: Mapping[str, Any], facts: list[str]) -> list[str]:
    """One action's or trigger's section."""
    return [
        f"### `{item['name']}`",
        "",
        f"**{_cell(item.get('title', item['name']))}**: {_cell(item.get('description', ''))}",
        "",
        *(f"- {fact}" for fact in facts),
        "",
    ]


def _summary(title: str, entries: Sequence[Mapping[str, Any]], columns: Sequence[str], extra: Any) -> list[str]:
    """The section's heading and one table row per entry: name, title, call, scopes and ``extra(entry)``."""
    lines = [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for entry in entries:
        request = entry.get("request", {})
        call = f"`{request.get('method', '')} {request.get('path', '')}`"
        cells = [f"[`{entry['name']}`](#{entry['name']})", _cell(entry.get("title", "")), call]
        cells += [_scopes(entry.get("scopes", ())), *extra(entry)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _actions(actions: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = _summary("Actions", actions, ("action", "title", "Pinterest call", "scopes"), lambda action: ())
    for action in actions:
        facts = [f"call: {_calls(action.get('request', {}))}", f"scopes: {_scopes(action.get('scopes', ()))}"]
        lines += _entry(action, facts)
        lines += _fields_table(action.get("input_schema", {}), "input")
        lines.append("")
    return lines


def _triggers(triggers: Sequence[Mapping[str, Any]]) -> list[str]:
    columns = ("trigger", "title", "reads", "scopes", "poll every")
    lines = _summary("Triggers", triggers, columns, lambda trigger: (f"{trigger.get('poll_interval_seconds', '?')} s",))
    for trigger in triggers:
        event = trigger.get("event_schema", {}).get("properties", {})
        facts = [
            f"reads: {_calls(trigger.get('request', {}))}",
            f"scopes: {_scopes(trigger.get('scopes', ()))}",
            f"recommended poll interval: {trigger.get('poll_interval_seconds', '?')} s",
            "each event: " + (", ".join(f"`{name}`" for name in event) or "no fields"),
        ]
        lines += _entry(trigger, facts)
        lines += _fields_table(trigger.get("input_schema", {}), "input")
        lines.append("")
    return lines


def _lookup(manifest: Mapping[str, Any], dotted: str) -> Any:
    """The manifest's value at ``api.rate_limit``-style path, or None."""
    value: Any = manifest
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _setting_type(setting: Mapping[str, Any]) -> str:
    declared = setting.get("type", "")
    kind = " or ".join(declared) if isinstance(declared, list) else str(declared)
    return f"{kind} ({setting['unit']})" if setting.get("unit") else kind


def _setting_default(manifest: Mapping[str, Any], setting: Mapping[str, Any]) -> str:
    if "default" in setting:
        return _code(setting["default"])
    if setting.get("default_from"):
        value = _lookup(manifest, setting["default_from"])
        where = f"the manifest's `{setting['default_from']}`"
        return f"{_code(value)} ({where})" if value is not None else where
    return ""


def _settings(manifest: Mapping[str, Any], settings: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "## Settings",
        "",
        "The host's `settings` dict; every key is optional. *Faces*: where else a person sets it "
        "(`cli`: a `modulex-pinterest` flag, `--max-retries` for `max_retries`; `airflow`: a key of the "
        "Airflow connection's extra).",
        "",
        "| setting | type | default | faces | description |",
        "|---|---|---|---|---|",
    ]
    for setting in settings:
        faces = ", ".join(setting.get("faces", ()))
        lines.append(
            f"| `{setting['name']}` | {_cell(_setting_type(setting))} | {_cell(_setting_default(manifest, setting))} | "
            f"{faces} | {_cell(setting.get('description', ''))} |"
        )
    lines.append("")
    return lines


def render(manifest: Mapping[str, Any] | None = None) -> str:
    """The text of ``docs/actions.md`` for ``manifest`` (default: the installed plugin's, through the host)."""
    if manifest is None:
        from ..host import Host

        manifest = Host().manifest(PLUGIN)
    lines = [
        "# Actions, triggers and settings",
        "",
        f"<!-- Generated from the manifest by `{COMMAND}`: do not edit by hand. -->",
        "",
        f"What the `{manifest.get('id', PLUGIN)}` plugin declares in its manifest (`plugin.yaml` and "
        "`schemas/`), as a host reads it. Each action's full input and output JSON Schemas: "
        "`modulex-pinterest describe ACTION`. What the inputs mean together (lists and bookmarks, "
        "`fetch_all`, `dry_run`, media): [actions-guide.md](actions-guide.md).",
        "",
    ]
    lines += _actions(manifest.get("actions", ()))
    triggers = manifest.get("triggers") or ()
    if triggers:
        lines += _triggers(triggers)
    settings = manifest.get("settings")
    if isinstance(settings, list) and settings:
        lines += _settings(manifest, settings)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m modulex_pinterest.apps.reference [PATH]``: write the page to PATH, or print it."""
    parser = argparse.ArgumentParser(
        prog="python -m modulex_pinterest.apps.reference",
        description="Render docs/actions.md (the actions and triggers) from the installed plugin's manifest.",
    )
    parser.add_argument("path", nargs="?", help="the file to (re)write, e.g. docs/actions.md; default: stdout")
    args = parser.parse_args(argv)
    text = render()
    if args.path is None:
        sys.stdout.write(text)
    else:
        Path(args.path).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
