"""Writes the Langflow nodes (``pinterest/*.py``, one per action and per trigger) from the manifest.

``python -m modulex_pinterest.langflow.generate`` rewrites them (and ``extension.json``) from the
installed plugin's manifest; ``--check`` writes nothing and exits 1 listing the files that differ (stale, missing
or left over); ``--manifest plugin.yaml`` reads another manifest (its schemas beside it);
``--out DIR`` writes elsewhere. A node is source code because Langflow stores each node's
source in a flow and evaluates it at build time: each file declares what the node is, and
:class:`.component.PinterestComponent` (through :mod:`.runtime`) runs it.

How a schema becomes a field: a picker (``ui.options``) a dropdown the plugin fills, that
takes typed text and a wire too; an enum a dropdown; ``widget: textarea`` or an object a
multiline text; an integer with a default an integer field; a boolean a switch; a list of
enum values a multiselect; another list a list of texts; any other value a text field
(checked by the plugin). ``ui.field_order`` and ``ui.advanced`` are kept, required fields marked.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..host.declared import declared_default
from . import runtime

BUNDLE = "pinterest"
PACKAGE_DIR = Path(__file__).resolve().parent
ICON = "Pin"  # Langflow shows its own (Lucide) icons by name; plugin.yaml's icon is an SVG file it cannot use
HEADER = (
    '"""{title}: the Langflow node of the Pinterest {kind} ``{name}``.\n\n'
    "Generated from plugin.yaml and schemas/ by `python -m modulex_pinterest.langflow.generate`: do not edit.\n"
    '"""\n'
)
WIDTH = 96  # the longest piece of a wrapped string literal


def class_name(name: str) -> str:
    return "Pinterest" + "".join(part.capitalize() for part in name.split("_"))


def literal(value: Any) -> str:
    """``value`` as Python source (strings in double quotes)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    raise TypeError(f"no literal for {value!r}")


def argument(key: str, value: Any, indent: str) -> str:
    """One ``key=value,`` line; a long string wrapped into adjacent literals in parentheses."""
    text = literal(value)
    if len(indent) + len(key) + len(text) + 2 <= 120:
        return f"{indent}{key}={text},\n"
    if isinstance(value, list):
        inner = "".join(f"{indent}    {literal(item)},\n" for item in value)
        return f"{indent}{key}=[\n{inner}{indent}],\n"
    if len(indent) + 4 + len(text) <= 120:  # fits on a line of its own, as ruff format puts it
        return f"{indent}{key}=(\n{indent}    {text}\n{indent}),\n"
    pieces = textwrap.wrap(value, WIDTH, drop_whitespace=False, break_long_words=True, break_on_hyphens=False)
    inner = "".join(f"{indent}    {literal(piece)}\n" for piece in pieces)
    return f"{indent}{key}=(\n{inner}{indent}),\n"


def call(kind: str, arguments: Mapping[str, Any], indent: str) -> str:
    body = "".join(argument(key, value, indent + "    ") for key, value in arguments.items())
    return f"{indent}{kind}(\n{body}{indent}),\n"


def field_input(field: str, schema: Mapping[str, Any], ui: Mapping[str, Any], required: bool) -> tuple[str, dict]:
    """(input class, its arguments) for one schema property."""
    kind = schema.get("type")
    items = schema.get("items") or {}
    args: dict[str, Any] = {
        "name": runtime.attribute_name(field),
        "display_name": schema.get("title") or field.replace("_", " ").title(),
        "info": schema.get("description") or "",
    }
    default = schema.get("default")
    widget = ((ui.get("widgets") or {}).get(field) or {}).get("widget")
    if field in (ui.get("options") or {}):
        parents = ui["options"][field].get("depends_on") or []
        after = f" Choices follow {', '.join(parents)}." if parents else ""
        args["info"] += " Pick one (the plugin lists them), type a value, or wire one in." + after
        cls, extra = "DropdownInput", {"options": [], "value": "", "combobox": True, "real_time_refresh": True}
        extra["input_types"] = ["Message"]
    elif "enum" in schema:
        options = [str(value) for value in schema["enum"]]
        cls, extra = "DropdownInput", {"options": options, "value": "" if default is None else str(default)}
    elif kind == "array" and "enum" in items:
        cls, extra = "MultiselectInput", {"options": list(items["enum"]), "value": list(default or [])}
    elif kind == "array" and items.get("type") == "object" or kind == "object":
        args["info"] += " As JSON."
        cls, extra = "MultilineInput", {"value": ""}
    elif kind == "array":
        cls, extra = "MessageTextInput", {"is_list": True, "value": list(default or [])}
    elif kind == "boolean":
        cls, extra = "BoolInput", {"value": bool(default)}
    elif kind == "integer" and default is not None:
        cls, extra = "IntInput", {"value": default}
    elif kind == "string" and widget == "textarea":
        cls, extra = "MultilineInput", {"value": default or ""}
    else:
        if kind in ("integer", "number"):
            args["info"] += " A number; leave it empty for none."
        cls, extra = "MessageTextInput", {"value": "" if default is None else str(default)}
    args.update(extra)
    if required:
        args["required"] = True
    if field in (ui.get("advanced") or ()):
        args["advanced"] = True
    return cls, args


def connection_inputs(manifest: Mapping[str, Any], schema: Mapping[str, Any], trigger: bool) -> list[tuple[str, dict]]:
    """The fields every node has after its own: credentials, the offered settings, a trigger's state file."""
    found: list[tuple[str, dict]] = []
    if trigger:
        found.append(
            (
                "StrInput",
                {
                    "name": runtime.STATE_FIELD,
                    "display_name": "State File",
                    "info": (
                        "A file that keeps what this trigger has seen between polls (created by the first poll, "
                        "which reports nothing unless Emit Existing is on). One file per trigger node. Run the "
                        "flow on Langflow's Schedule trigger: each poll reports each new item once."
                    ),
                    "value": "",
                    "required": True,
                },
            )
        )
        found.append(
            (
                "HandleInput",
                {
                    "name": "schedule",
                    "display_name": "Schedule",
                    "info": (
                        "Optional: wire the Schedule trigger's output here to show what runs this poll; "
                        "its value is not used."
                    ),
                    "input_types": ["JSON", "Data"],
                },
            )
        )
    found.append(
        (
            "SecretStrInput",
            {
                "name": "access_token",
                "display_name": "Access Token",
                "info": (
                    "A Pinterest OAuth access token: the name of a Langflow global variable "
                    f"(e.g. {runtime.TOKEN_VARIABLE}, made from the environment with "
                    f"LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT={runtime.TOKEN_VARIABLE}). Leave it empty "
                    "to use a Credential Store."
                ),
                "value": runtime.TOKEN_VARIABLE,
                "load_from_db": True,
            },
        )
    )
    found.append(
        (
            "SecretStrInput",  # a Redis URL may carry a password: masked, and left out of exported flows
            {
                "name": "credential_store",
                "display_name": "Credential Store",
                "info": (
                    "OAuth 2.0 instead of a token: a credentials file or redis://HOST:PORT/DB?key=KEY written by "
                    "`modulex-pinterest auth login`; refreshed tokens are stored there, shared by every worker. "
                    "A URL with a password is best kept in a Langflow global variable."
                ),
                "value": "",
                "load_from_db": False,
                "advanced": True,
            },
        )
    )
    for setting in runtime.offered_settings(manifest, schema):
        unit = f" ({setting['unit']})" if setting.get("unit") else ""
        shown = declared_default(manifest, setting)
        default = f" Empty: {json.dumps(shown)}." if shown not in (None, [], False) else ""
        if setting["name"] == "base_url":  # as on the command line, the environment's comes first
            default = f" Empty: ${runtime.BASE_URL_ENV} when set, else {shown}."
        args: dict[str, Any] = {
            "name": setting["name"],
            "display_name": setting["name"].replace("_", " ").title().replace("Url", "URL"),
            "info": f"{setting.get('description', '').strip()}{unit}.{default}".replace("..", "."),
            "advanced": True,
        }
        if setting.get("type") == "boolean":
            found.append(("BoolInput", {**args, "value": bool(setting.get("default"))}))
        elif setting.get("type") == "array":
            found.append(("StrInput", {**args, "is_list": True, "value": []}))
        else:
            found.append(("StrInput", {**args, "value": ""}))
    return found


def node_inputs(manifest: Mapping[str, Any], item: Mapping[str, Any], trigger: bool) -> list[tuple[str, dict]]:
    schema = item.get("input_schema") or {}
    ui = item.get("ui") or {}
    properties: dict[str, Any] = schema.get("properties") or {}
    order = [name for name in ui.get("field_order") or () if name in properties]
    order += [name for name in properties if name not in order]
    required = set(schema.get("required") or ())
    found = [field_input(name, properties[name], ui, name in required) for name in order]
    connection = connection_inputs(manifest, schema, trigger)
    if ui.get("options"):  # the pickers are filled again when the credentials or the server change
        for _, args in connection:
            if args["name"] in runtime.PICKER_SOURCES:
                args["real_time_refresh"] = True
    found += connection
    names = [args["name"] for _, args in found]
    if len(set(names)) != len(names):
        raise ValueError(f"{item['name']}: two fields named alike in {names}")
    return found


def node_outputs(item: Mapping[str, Any], trigger: bool) -> list[dict[str, Any]]:
    if trigger:
        return [
            {"display_name": "New Events", "name": "events", "method": "poll_items"},
            {"display_name": "Poll", "name": "output", "method": "poll_data"},
        ]
    outputs = [{"display_name": "Output", "name": "output", "method": "action_data"}]
    if item.get("list_field"):
        field = item["list_field"]
        title = ((item.get("output_schema") or {}).get("properties") or {}).get(field, {}).get("title")
        shown = title or field.replace("_", " ").title()
        outputs.append({"display_name": shown, "name": "rows", "method": "action_items"})
    return outputs


def render(manifest: Mapping[str, Any], item: Mapping[str, Any], trigger: bool) -> str:
    """One node's source."""
    inputs = node_inputs(manifest, item, trigger)
    kinds = sorted({cls for cls, _ in inputs} | {"Output"})
    name = item["name"]
    head = HEADER.format(title=item["title"], kind="trigger" if trigger else "action", name=name)
    lines = [head, "\n", f"from lfx.io import {', '.join(kinds)}\n", "\n"]
    lines.append("from modulex_pinterest.langflow.component import PinterestComponent\n\n\n")
    lines.append(f"class {class_name(name)}(PinterestComponent):\n")
    attributes = {
        "display_name": item["title"],
        "description": item["description"],
        "icon": ICON,
        "name": class_name(name),
        "trigger" if trigger else "action": name,
    }
    for key, value in attributes.items():
        text = f"    {key} = {literal(value)}\n"
        if len(text) > 121:  # a long description: wrapped, as an argument is
            text = argument(key, value, "    ").replace("=(", " = (").removesuffix(",\n") + "\n"
        lines.append(text)
    lines.append("    inputs = [\n")
    lines += [call(cls, args, "        ") for cls, args in inputs]
    lines.append("    ]\n    outputs = [\n")
    lines += [call("Output", args, "        ") for args in node_outputs(item, trigger)]
    lines.append("    ]\n")
    return "".join(lines)


def extension(manifest: Mapping[str, Any]) -> str:
    """``extension.json``: what Langflow's discovery reads (``lfx/extension/manifest.py``)."""
    document = {
        "id": f"modulex-{manifest['id']}",
        "version": manifest.get("version") or __version__,
        "name": manifest["name"],
        "description": f"{manifest['name']} actions and triggers of the modulex-{manifest['id']} plugin.",
        "lfx": {"compat": ["1"]},
        "bundles": [{"name": BUNDLE, "path": BUNDLE, "display_name": manifest["name"], "icon": ICON}],
    }
    return json.dumps(document, indent=2) + "\n"


def render_all(manifest: Mapping[str, Any]) -> dict[str, str]:
    """{path under the package folder: text}: ``extension.json`` and a node per action and trigger."""
    files = {"extension.json": extension(manifest)}
    files.update({f"{BUNDLE}/{item['name']}.py": render(manifest, item, False) for item in manifest["actions"]})
    files.update(
        {f"{BUNDLE}/{item['name']}.py": render(manifest, item, True) for item in manifest.get("triggers") or ()}
    )
    return files


def load_manifest(path: str) -> dict[str, Any]:
    """A plugin.yaml with its schemas (paths beside it) inlined, as the plugin's manifest hook gives it."""
    root = Path(path).resolve().parent
    with open(path, encoding="utf-8") as handle:
        manifest: dict[str, Any] = yaml.safe_load(handle)
    for item in [*manifest["actions"], *(manifest.get("triggers") or ())]:
        for key in ("input_schema", "output_schema", "event_schema"):
            if isinstance(item.get(key), str):
                item[key] = json.loads((root / item[key]).read_text(encoding="utf-8"))
    return manifest


def _present(folder: Path) -> set[str]:
    found = {f"{BUNDLE}/{path.name}" for path in (folder / BUNDLE).glob("*.py")}
    return found | ({"extension.json"} if (folder / "extension.json").is_file() else set())


def differences(files: Mapping[str, str], folder: Path) -> list[str]:
    """The paths under ``folder`` that are not as ``files`` say: stale, missing or left over."""
    present = _present(folder)
    stale = [
        name for name in files if name not in present or (folder / name).read_text(encoding="utf-8") != files[name]
    ]
    return sorted(stale + [name for name in present if name not in files])


def write(files: Mapping[str, str], folder: Path) -> None:
    (folder / BUNDLE).mkdir(parents=True, exist_ok=True)
    for name in _present(folder) - set(files):
        (folder / name).unlink()
    for name, text in files.items():
        target = folder / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modulex_pinterest.langflow.generate", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 listing the files that differ")
    parser.add_argument("--manifest", help="a plugin.yaml to read (default: the installed plugin's manifest)")
    parser.add_argument("--out", help=f"the folder to write extension.json and {BUNDLE}/ in (default: {PACKAGE_DIR})")
    args = parser.parse_args(argv)
    manifest = load_manifest(args.manifest) if args.manifest else runtime.manifest()
    folder = Path(args.out) if args.out else PACKAGE_DIR
    files = render_all(manifest)
    if args.check:
        stale = differences(files, folder)
        for name in stale:
            print(f"stale: {folder / name}", file=sys.stderr)
        if stale:
            print("regenerate with: python -m modulex_pinterest.langflow.generate", file=sys.stderr)
        return 1 if stale else 0
    write(files, folder)
    print(f"{len(files) - 1} nodes in {folder / BUNDLE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
