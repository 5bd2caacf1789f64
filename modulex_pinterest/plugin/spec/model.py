"""plugin.yaml as frozen, typed objects: what the service, the handlers and the
client receive, instead of a name to look up again or a ``dict[str, Any]``.

Built once by :func:`.manifest.spec` from a manifest already checked against
its schema, so the constructors here trust the shape and only convert.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

Entry = dict[str, Any]


@dataclass(frozen=True)
class Semantics:
    """How one HTTP method behaves (``request_semantics`` in plugin.yaml): the one table the
    client, the failure report and the agent hints read.

    ``resend``: the client may send it again when its outcome is unknown (a timeout after
    sending, a broken connection, a 5xx). ``rerun``: an engine may run the action again
    after such a failure. ``outcome``: what may have happened, for the message ("created").
    ``gone_is_done``: a 404 answer means what the request asked for is already so.
    """

    method: str
    resend: bool
    rerun: bool
    read_only: bool
    destructive: bool
    outcome: str | None = None
    gone_is_done: bool = False

    @classmethod
    def of(cls, method: str, entry: Entry) -> Semantics:
        return cls(method=method, **entry)


@dataclass(frozen=True)
class Request:
    """One Pinterest call. Path placeholders are filled from the inputs; ``section_path``
    replaces ``path`` when the inputs name a ``board_section_id``; ``query`` and ``body``
    name the inputs sent as query parameters or as the JSON body (``body_required``: at
    least one of them must be given)."""

    method: str
    path: str
    rate_limit_category: str
    semantics: Semantics
    section_path: str | None = None
    query: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    body_required: bool = False
    outcome: str | None = None

    @classmethod
    def of(cls, entry: Entry, table: dict[str, Semantics]) -> Request:
        return cls(
            method=entry["method"],
            path=entry["path"],
            rate_limit_category=entry["rate_limit_category"],
            semantics=table[entry["method"]],
            section_path=entry.get("section_path"),
            query=tuple(entry.get("query", ())),
            body=tuple(entry.get("body", ())),
            body_required=entry.get("body_required", False),
            outcome=entry.get("outcome"),
        )

    @property
    def may_have(self) -> str | None:
        """What the request may have done when its answer was lost: ``created``, ``saved``..."""
        return self.outcome or self.semantics.outcome


@dataclass(frozen=True)
class Output:
    """How a plain action's answer becomes its output: the answer whole under ``object``,
    its ``fields`` copied (strings, else null), and ``inputs`` echoed from the checked inputs."""

    object: str | None = None
    fields: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: Entry | None) -> Output:
        entry = entry or {}
        return cls(entry.get("object"), tuple(entry.get("fields", ())), tuple(entry.get("inputs", ())))


@dataclass(frozen=True)
class Picker:
    """A field whose values a builder offers from a list action (``ui.options``)."""

    source: str
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    input_schema: str
    output_schema: str
    scopes: tuple[str, ...]
    request: Request
    handler: str
    output: Output
    subject: str | None
    list_field: str | None = None
    pickers: dict[str, Picker] = field(default_factory=dict)
    media_requests: dict[str, Request] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: Entry, table: dict[str, Semantics]) -> Action:
        output = Output.of(entry.get("output"))
        return cls(
            name=entry["name"],
            title=entry["title"],
            input_schema=entry["input_schema"],
            output_schema=entry["output_schema"],
            scopes=tuple(entry["scopes"]),
            request=Request.of(entry["request"], table),
            handler=entry.get("handler", "plain"),
            output=output,
            subject=entry.get("subject", output.object),
            list_field=entry.get("list_field"),
            pickers=_pickers(entry),
            media_requests={k: Request.of(v, table) for k, v in entry.get("media_requests", {}).items()},
        )


@dataclass(frozen=True)
class Trigger:
    name: str
    handler: str
    input_schema: str
    event_schema: str
    output_schema: str
    scopes: tuple[str, ...]
    request: Request
    pickers: dict[str, Picker] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: Entry, table: dict[str, Semantics]) -> Trigger:
        return cls(
            name=entry["name"],
            handler=entry["handler"],
            input_schema=entry["input_schema"],
            event_schema=entry["event_schema"],
            output_schema=entry["output_schema"],
            scopes=tuple(entry["scopes"]),
            request=Request.of(entry["request"], table),
            pickers=_pickers(entry),
        )


@dataclass(frozen=True)
class CredentialMode:
    mode: str
    name: str
    token_url: str | None = None
    authorization_url: str | None = None
    scopes: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: Entry) -> CredentialMode:
        return cls(
            entry["mode"],
            entry["name"],
            entry.get("token_url"),
            entry.get("authorization_url"),
            tuple(entry.get("scopes", ())),
        )


@dataclass(frozen=True)
class AnalyticsLimits:
    """Pinterest's rules on analytics dates (``analytics_limits``): a start_date at most
    ``max_days_back`` days before today (UTC), an end_date at most ``max_range_days`` after it."""

    max_days_back: int
    max_range_days: int

    @classmethod
    def of(cls, entry: Entry) -> AnalyticsLimits:
        return cls(entry["max_days_back"], entry["max_range_days"])


@dataclass(frozen=True)
class MediaLimits:
    """Pinterest's documented media limits (``media_limits``)."""

    image_types: tuple[str, ...]
    image_max_bytes: int
    video_types: tuple[str, ...]
    video_max_bytes: int
    carousel_min: int
    carousel_max: int

    @classmethod
    def of(cls, entry: Entry) -> MediaLimits:
        image, video, carousel = entry["image"], entry["video"], entry["carousel"]
        return cls(
            tuple(image["content_types"]),
            image["max_bytes"],
            tuple(video["content_types"]),
            video["max_bytes"],
            carousel["min_items"],
            carousel["max_items"],
        )


@dataclass(frozen=True)
class Setting:
    """One host setting (``settings`` in plugin.yaml): its JSON types, bounds and default
    (``default_from`` resolved; ``token_url``'s is the oauth2 mode's)."""

    name: str
    types: tuple[str, ...]
    description: str
    default: Any = None
    minimum: float | None = None
    exclusive_minimum: float | None = None
    unit: str | None = None
    faces: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: Entry, raw: Entry) -> Setting:
        default = entry.get("default")
        if "default_from" in entry:
            default = functools.reduce(lambda node, key: node[key], entry["default_from"].split("."), raw)
        if entry["name"] == "token_url" and default is None:
            default = next((m.get("token_url") for m in raw["credentials"] if m["mode"] == "oauth2"), None)
        declared = entry["type"]
        return cls(
            name=entry["name"],
            types=(declared,) if isinstance(declared, str) else tuple(declared),
            description=entry["description"],
            default=tuple(default) if isinstance(default, list) else default,
            minimum=entry.get("minimum"),
            exclusive_minimum=entry.get("exclusiveMinimum"),
            unit=entry.get("unit"),
            faces=tuple(entry.get("faces", ())),
        )


@dataclass(frozen=True)
class Spec:
    """The whole manifest, typed."""

    id: str
    base_url: str
    sandbox_base_url: str | None
    rate_limit: float
    credential_check: Request
    credential_check_scopes: tuple[str, ...]
    credential_modes: dict[str, CredentialMode]
    actions: dict[str, Action]
    triggers: dict[str, Trigger]
    media_limits: MediaLimits
    semantics: dict[str, Semantics]
    settings: dict[str, Setting]
    trigger_state_max_bytes: int | None = None  # required with triggers (the manifest's schema says so)
    analytics_limits: AnalyticsLimits | None = None

    @classmethod
    def of(cls, raw: Entry) -> Spec:
        table = {method: Semantics.of(method, entry) for method, entry in raw["request_semantics"].items()}
        return cls(
            id=raw["id"],
            base_url=raw["api"]["base_url"],
            sandbox_base_url=raw["api"].get("sandbox_base_url"),
            rate_limit=float(raw["api"]["rate_limit"]),
            credential_check=Request.of(raw["credential_check"]["request"], table),
            credential_check_scopes=tuple(raw["credential_check"]["scopes"]),
            credential_modes={entry["mode"]: CredentialMode.of(entry) for entry in raw["credentials"]},
            actions={entry["name"]: Action.of(entry, table) for entry in raw["actions"]},
            triggers={entry["name"]: Trigger.of(entry, table) for entry in raw.get("triggers", [])},
            media_limits=MediaLimits.of(raw["media_limits"]),
            semantics=table,
            settings={entry["name"]: Setting.of(entry, raw) for entry in raw.get("settings", [])},
            trigger_state_max_bytes=raw.get("trigger_state_max_bytes"),
            analytics_limits=AnalyticsLimits.of(raw["analytics_limits"]) if "analytics_limits" in raw else None,
        )


def _pickers(entry: Entry) -> dict[str, Picker]:
    declared = (entry.get("ui") or {}).get("options", {})
    return {name: Picker(item["source"], tuple(item["depends_on"])) for name, item in declared.items()}
