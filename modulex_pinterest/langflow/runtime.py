"""What every generated Langflow node calls: actions, pickers and polls through the reference host.

No node talks HTTP itself: a node hands this module its field values (``values``:
input name -> what Langflow set, a ``Message`` or ``Data`` from a wire included)
and gets plain JSON back, or an exception whose message is the plugin's (Langflow
then turns the node red with it). Inputs are checked by the plugin before anything
is sent, as for every face. This module imports no Langflow, so it is importable
(and testable) without ``lfx``; :mod:`.component` wraps it for Langflow.

Credentials: an access token (a Langflow secret, normally a global variable such as
``PINTEREST_ACCESS_TOKEN``), or a credential store (a file path or
``redis://HOST:PORT/DB?key=KEY``) holding an OAuth 2.0 grant, refreshed under the
store's lease so every worker shares the rotation. The base URL: the node's
``base_url`` field, else ``$PINTEREST_BASE_URL`` (as the command line), else
Pinterest's.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import PLUGIN
from ..contract import Credentials, CredentialStore, Progress
from ..host import StoreError
from ..host.declared import declared_settings
from ..host.shared import shared_host, shared_store
from ..host.statefile import StateFileError, read_state, taking_turns, write_state
from ..host.stores import holding_credentials

if TYPE_CHECKING:
    from ..host.redis_store import RedisStore
    from ..host.stores import CredentialsFile

BASE_URL_ENV = "PINTEREST_BASE_URL"  # the command line's too (apps/help.py)
TOKEN_VARIABLE = "PINTEREST_ACCESS_TOKEN"  # the Langflow global variable a node's token names by default
FACE = "langflow"  # the settings plugin.yaml offers to Langflow are a node's advanced fields
MEDIA_SETTINGS = ("file_roots", "allow_private_network")  # only on nodes that read local files
CONNECTION_FIELDS = ("access_token", "credential_store")
PICKER_SOURCES = (*CONNECTION_FIELDS, "base_url")
"""The fields whose change fills a node's pickers again: the credentials, and the server they are asked of."""
STATE_FIELD = "state_file"
MAX_CHOICES = 1000  # a picker lists at most this many choices (pages of the options hook)

# Attributes of Langflow's Component that an input of the same name would hide: such an
# input is the attribute ``<name>_input`` and mapped back to ``<name>`` (:func:`attribute_name`).
RESERVED = frozenset(
    {
        "build",
        "code",
        "ctx",
        "description",
        "display_name",
        "graph",
        "icon",
        "index",
        "inputs",
        "log",
        "name",
        "outputs",
        "priority",
        "run",
        "set",
        "start",
        "status",
        "stop",
        "tree",
        "validate",
        "variables",
    }
)
LABEL = re.compile(r"^(?P<label>.*) \((?P<value>[^()]*)\)$", re.DOTALL)


class NodeError(ValueError):
    """A node that cannot run as it is filled in: the message names the field and the rule."""


class ActionFailed(RuntimeError):
    """The plugin's answer was a failure; the message is the plugin's ``error``."""

    def __init__(self, output: Mapping[str, Any]) -> None:
        super().__init__(str(output.get("error") or "the action failed"))
        self.output = dict(output)


def attribute_name(field: str) -> str:
    """The Component attribute an input field is held in."""
    return f"{field}_input" if field in RESERVED else field


def field_name(attribute: str) -> str:
    """The input field a Component attribute holds (:func:`attribute_name` undone)."""
    stem = attribute.removesuffix("_input")
    return stem if stem != attribute and stem in RESERVED else attribute


def label(option: Mapping[str, Any]) -> str:
    """A picker choice as the dropdown shows it: the label carries the value, because Langflow keeps
    only the chosen text at run time (``Kitchen ideas (397233545249)``)."""
    text, value = str(option.get("label") or ""), str(option.get("value") or "")
    return value if text in ("", value) else f"{text} ({value})"


def picked(text: str) -> str:
    """The value a picker's chosen label carries (:func:`label`); a typed value as it is."""
    found = LABEL.match(text)
    return found.group("value") if found else text


def manifest() -> dict[str, Any]:
    """The plugin's manifest, as the reference host discovers it."""
    return shared_host().manifest(PLUGIN)


def entry(name: str) -> dict[str, Any]:
    """An action's or a trigger's manifest entry."""
    triggers = {item["name"] for item in manifest().get("triggers", [])}
    host = shared_host()
    return host.trigger(PLUGIN, name) if name in triggers else host.action(PLUGIN, name)


def offered_settings(plugin_manifest: Mapping[str, Any], schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The settings a node offers as advanced fields, in the manifest's order: those plugin.yaml
    offers to Langflow, the media ones only on a node with a local file field."""
    media = _reads_files(schema)
    return [
        setting
        for setting in declared_settings(plugin_manifest, FACE)
        if media or setting["name"] not in MEDIA_SETTINGS
    ]


def _reads_files(schema: Mapping[str, Any]) -> bool:
    """Whether an input schema has a local file field (``*_path``), at any depth."""
    for key, sub in (schema.get("properties") or {}).items():
        if key.endswith("_path") or _reads_files(sub.get("items") or {}) or _reads_files(sub):
            return True
    return False


def text_of(value: Any) -> Any:
    """A wired value as plain data: a ``Message``'s text, a ``Data``'s text (or its dict), a secret's value."""
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    data = getattr(value, "data", None)
    if isinstance(data, dict) and hasattr(value, "text_key"):
        return data[value.text_key] if value.text_key in data else data
    text = getattr(value, "text", None)
    if isinstance(text, str) and not isinstance(value, str):
        return text
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _listed(field: str, value: Any) -> list[Any]:
    """A list field's value: a list, or text holding a JSON array or one item per line."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise NodeError(f"{field}: not a JSON array: {text[:60]}") from None
        else:
            value = text.splitlines()
    if not isinstance(value, list):
        return [value]
    items = [text_of(item) for item in value]
    return [item.strip() if isinstance(item, str) else item for item in items if not _blank(item)]


def _typed(field: str, schema: Mapping[str, Any], value: Any) -> Any:
    """A field's text as its schema's type where it is plainly one (digits for an integer); anything
    else is passed on as it is, for the plugin's check to name."""
    kind = schema.get("type")
    if kind == "array":
        items = [_typed(field, schema.get("items") or {}, item) for item in _listed(field, value)]
        return items or None
    if kind == "object" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise NodeError(f"{field}: not a JSON object: {value.strip()[:60]}") from None
    if isinstance(value, str):
        text = value.strip()
        if kind == "integer" and re.fullmatch(r"-?[0-9]+", text):
            return int(text)
        if kind == "number":
            try:
                return float(text)
            except ValueError:
                return text
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
    return value


def action_inputs(item: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's inputs from a node's field values: blank fields left out, a picker's label
    turned into its value, text turned into the schema's type where it plainly is one."""
    schema = item.get("input_schema") or {}
    pickers = ((item.get("ui") or {}).get("options")) or {}
    inputs: dict[str, Any] = {}
    for field, sub in (schema.get("properties") or {}).items():
        value = text_of(values.get(field))
        if _blank(value):
            continue
        if field in pickers and isinstance(value, str):
            value = picked(value.strip())
        value = _typed(field, sub, value)
        if not _blank(value):
            inputs[field] = value
    return inputs


def connection(
    values: Mapping[str, Any], settings_of: Iterable[Mapping[str, Any]] = ()
) -> tuple[Credentials | None, CredentialStore | None, dict[str, Any]]:
    """(credentials, store, settings) from a node's connection fields and its advanced settings
    (``settings_of``: :func:`offered_settings`)."""
    settings: dict[str, Any] = {}
    for setting in settings_of:
        name = setting["name"]
        value = text_of(values.get(name))
        if name == "base_url":
            value = _base_url(value)
        if _blank(value) or (value is False and setting.get("type") == "boolean"):
            continue
        settings[name] = _setting(setting, value)
    spec = text_of(values.get("credential_store"))
    if not _blank(spec):
        try:
            return None, _store(str(spec).strip()), settings
        except (StoreError, ValueError) as exc:
            raise NodeError(f"credential_store: {exc}") from None
    token = text_of(values.get("access_token"))
    if _blank(token):
        raise NodeError(
            f"access_token: give a Pinterest access token (a global variable such as {TOKEN_VARIABLE}), "
            "or a credential_store holding an OAuth 2.0 grant"
        )
    return {"mode": "access_token", "access_token": str(token).strip()}, None, settings


def _base_url(value: Any) -> Any:
    """The node's base URL, else ``$PINTEREST_BASE_URL``; an empty variable is a mistake, as on the
    command line: falling back to Pinterest's would send a sandbox token to production."""
    if not _blank(value):
        return str(value).strip()
    given = os.environ.get(BASE_URL_ENV)
    if given is not None and not given.strip():
        raise NodeError(f"${BASE_URL_ENV} is empty: give the API's URL, or leave it unset for Pinterest's")
    return given


def _setting(setting: Mapping[str, Any], value: Any) -> Any:
    """A setting's field value as the plugin takes it: a string's text as it is; File Roots' folders
    (a list, or one a line) made absolute; any other text read as JSON (``30``, ``[5, 30]``, ``true``)."""
    kinds = setting.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    name = setting["name"]
    if name == "file_roots":
        return [os.path.abspath(os.path.expanduser(str(path))) for path in _listed(name, value)]
    if isinstance(value, str) and "string" not in kinds:
        try:
            return json.loads(value)
        except ValueError:
            raise NodeError(f"{name}: not a {' or '.join(map(str, kinds))}: {value.strip()[:60]}") from None
    return value


def _store(spec: str) -> CredentialsFile | RedisStore:
    return holding_credentials(shared_store(spec))


def run_action(action: str, values: Mapping[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """Run one action with a node's field values; its output, or :class:`ActionFailed`."""
    item = entry(action)
    credentials, store, settings = connection(values, offered_settings(manifest(), item["input_schema"]))
    inputs = action_inputs(item, values)
    output = shared_host(store).run(PLUGIN, action, inputs, credentials, settings, store=store, progress=progress)
    if not output.get("success"):
        raise ActionFailed(output)
    return output


def items_of(action: str, output: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A list action's items (its ``list_field``), each a dict."""
    field = entry(action).get("list_field")
    return [item for item in output.get(field or "", None) or [] if isinstance(item, dict)]


def choices(action: str, field: str, values: Mapping[str, Any]) -> list[str]:
    """A picker's choices as labels (:func:`label`), every page up to :data:`MAX_CHOICES`, for
    the values chosen so far (its parents)."""
    item = entry(action)
    credentials, store, settings = connection(values, offered_settings(manifest(), item["input_schema"]))
    inputs = action_inputs(item, values)
    parents = ((item.get("ui") or {}).get("options") or {}).get(field, {}).get("depends_on", [])
    if any(parent not in inputs for parent in parents):
        return []
    found: list[str] = []
    bookmark: str | None = None
    while len(found) < MAX_CHOICES:
        answer = shared_host(store).options(
            PLUGIN, action, field, {key: inputs[key] for key in parents}, credentials, settings, bookmark, store=store
        )
        if not answer.get("success"):
            raise ActionFailed(answer)
        found += [label(option) for option in answer.get("options") or []]
        bookmark = answer.get("bookmark")
        if not bookmark:
            break
    return found[:MAX_CHOICES]


def dependents(action: str, field: str | None) -> list[str]:
    """The pickers to fill again when ``field`` changed: the picker itself and those that depend
    on it; every picker when ``field`` is none of the inputs (a node just placed, a new token)."""
    pickers: dict[str, Any] = (entry(action).get("ui") or {}).get("options") or {}
    inputs = set((entry(action).get("input_schema") or {}).get("properties") or {})
    if field is None or field not in inputs:
        return list(pickers)
    return [name for name, spec in pickers.items() if name == field or field in spec.get("depends_on", [])]


def refresh_pickers(
    action: str, build_config: MutableMapping[str, Any], values: Mapping[str, Any], changed: str | None
) -> None:
    """Fill a node's pickers in ``build_config`` (Langflow's template: field -> its settings) after
    ``changed`` (an attribute name, or ``None`` when the node is placed): that picker and those that
    depend on it, and any still empty (the editor may keep only its last answer). A chosen value is
    shown as its choice's label; one its new parent no longer offers is cleared. A picker that cannot
    be filled yet (no token, no parent chosen) is left empty, its placeholder saying why."""
    field = field_name(changed) if changed is not None else None
    pickers: dict[str, Any] = (entry(action).get("ui") or {}).get("options") or {}
    wanted = dependents(action, field)
    wanted += [
        name for name in pickers if name not in wanted and not build_config.get(attribute_name(name), {}).get("options")
    ]
    for name in wanted:
        config = build_config.get(attribute_name(name))
        if config is None:
            continue
        try:
            options = choices(action, name, values)
        except (NodeError, ActionFailed) as exc:
            options, config["placeholder"] = [], f"no choices: {exc}"[:300]
        else:
            config["placeholder"] = ""
        config["options"] = options
        value = text_of(config.get("value"))
        if name == field or not isinstance(value, str) or not value.strip():
            continue
        match = next((option for option in options if picked(option) == picked(value.strip())), None)
        if match is not None:
            config["value"] = match
        elif field in pickers[name].get("depends_on", []):
            config["value"] = ""


@contextmanager
def _turn(path: str) -> Iterator[None]:
    """:func:`~..host.statefile.taking_turns`, its refusal said as the node's."""
    try:
        with taking_turns(path):
            yield
    except StateFileError as exc:
        raise NodeError(f"{STATE_FIELD}: {exc}") from None


def poll(trigger: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Poll a trigger once with the state in the node's state file: the new events (each new item
    once; the first poll primes and reports none unless asked to). The state is stored only after a
    successful poll, so a failed one repeats its events next time instead of losing them. Polls of
    one state file take turns (an OS lock on ``FILE.lock``), so two workers running the same
    scheduled flow at once cannot both report an item."""
    item = entry(trigger)
    path = text_of(values.get(STATE_FIELD))
    if _blank(path):
        raise NodeError(f"{STATE_FIELD}: name a file that keeps this trigger's state between polls")
    path = os.path.abspath(os.path.expanduser(str(path).strip()))
    credentials, store, settings = connection(values, offered_settings(manifest(), item["input_schema"]))
    inputs = action_inputs(item, values)
    with _turn(path):
        state = read_state(path, manifest()["trigger_state_max_bytes"])
        output = shared_host(store).poll(PLUGIN, trigger, inputs, credentials, settings, state, store=store)
        if not output.get("success"):
            raise ActionFailed(output)
        try:
            write_state(path, output["state"])
        except OSError as exc:
            raise NodeError(
                f"{STATE_FIELD}: cannot store the state in {path} ({exc.strerror}): the next poll repeats these events"
            ) from None
    return [event for event in output.get("events") or [] if isinstance(event, dict)]
