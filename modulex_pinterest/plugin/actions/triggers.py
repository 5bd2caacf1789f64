"""Polling triggers: ``new_pin`` and ``new_board`` (``triggers`` in plugin.yaml).

Pinterest API v5 has no webhooks for pins or boards, so a trigger is a poll
that keeps a small state between polls, which the host stores and hands back:

``{"v": 1, "trigger", "board_id", "board_section_id", "created_at", "ids"}``

``created_at`` is the high-water mark (the newest ``created_at`` reported or
primed, as ISO 8601 UTC; ``None`` when the list was empty) and ``ids`` every
id seen at exactly that timestamp (Pinterest's timestamps have whole seconds,
so several items can share one), at most :data:`MAX_SEEN` of them. An item is
new when it is newer than the mark, or at the mark and not in ``ids``. Ids
alone would need every id ever seen; a timestamp alone would repeat or lose
items created in the same second.

What this guarantees, poll after poll: each new item is reported once, oldest
first. A deleted item changes nothing (the mark is a time, not an item). An
item created during a poll is newer than or as new as anything the poll read,
so the next poll reports it. A poll that fails (on any page) returns no events
and the state it was given: nothing lost, nothing repeated.

Pins are listed newest first, so ``new_pin`` stops after the first page whose
last pin is older than the mark: what follows is known. GET /boards documents
no order (the sandbox lists oldest first), so ``new_board`` reads the whole
list (at most :data:`MAX_PAGES` pages of 250 boards).

A state is checked before use (:func:`read_state`): at most the manifest's
``trigger_state_max_bytes`` as compact JSON, exactly the keys this module
writes, its trigger and scope, a mark written as this module writes it and
neither before Pinterest existed nor ahead of this host's clock by more than
:data:`MAX_SKEW` seconds, and at most :data:`MAX_SEEN` distinct digit ids. What
passes is a state some board's history could have produced; a mark moved back
by hand to another plausible second cannot be told from a real one without a
signature, which would need a key the host keeps (not done).

Limits, stated: more than :data:`MAX_SEEN` items created within one second
make the poll fail (nothing reported, the state kept) rather than repeat or
lose any, until an item of a later second exists (the mark then moves past
them); a board reordered by hand can put an old pin last on a page and end
the walk early.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...contract import FRESH_STATE_WORDS as FRESH_STATE
from ..errors import ApiError, BadResponse, InputError
from ..messages import MAX_DETAIL
from ..run import Run
from ..spec import manifest
from ..spec.model import Request, Trigger
from ..spec.validation import PAGE_SIZE_MAX, schema_error_message, schema_errors
from ..transport.client import JsonObject, PinterestClient
from .lists import page_of, request_path

STATE_VERSION = 1
# Ids kept at the high-water mark: every one, up to this many; with ids of MAX_ID_DIGITS digits the
# state stays under 53 KB, within the manifest's trigger_state_max_bytes (64 KB).
MAX_SEEN = 1500
MAX_ID_DIGITS = 32  # as the inputs' board_id (Pinterest's ids have 12 to 19 digits)
MAX_SKEW = 300  # seconds a mark may be ahead of this host's clock (Pinterest's clock, or ours, being off)
EARLIEST = datetime(2009, 1, 1, tzinfo=timezone.utc)  # before Pinterest: no item is older
MAX_PAGES = 40  # pages of new items one poll reads at most; past it the poll fails and the state stays
EXISTING_BOARDS = PAGE_SIZE_MAX  # with emit_existing, new_board's first poll reports at most the newest 250
PIN_FIELDS = ("id", "title", "description", "link", "board_id", "board_section_id", "created_at")
BOARD_FIELDS = ("id", "name", "description", "privacy", "created_at")


class PollError(Exception):
    """A poll that cannot go on (too many pages, a state it cannot use): its message is the output's error."""


@dataclass(frozen=True)
class Row:
    at: datetime
    id: str
    item: JsonObject


@dataclass(frozen=True)
class Mark:
    at: datetime | None
    ids: frozenset[str]


_ID = re.compile(rf"[0-9]{{1,{MAX_ID_DIGITS}}}\Z")


def _bad(detail: str) -> ApiError:
    return BadResponse(detail, status=200, sent=True)


def is_item_id(value: Any) -> bool:
    """A Pinterest id as a state keeps it: 1 to :data:`MAX_ID_DIGITS` ASCII digits, nothing after."""
    return isinstance(value, str) and _ID.match(value) is not None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def time_text(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _row(item: JsonObject) -> Row:
    at = parse_time(item.get("created_at"))
    if at is None or not isinstance(item.get("id"), str) or not item["id"]:
        raise _bad("an item has no 'id' or no 'created_at' date-time")
    if not is_item_id(item["id"]):  # else the state would keep an id the next poll refuses
        raise _bad(f"an item's 'id' is not a Pinterest ID (1 to {MAX_ID_DIGITS} digits)")
    return Row(at, item["id"], item)


def check_trigger_inputs(trigger: Trigger, inputs: Any) -> dict[str, Any]:
    """``inputs`` against the trigger's input schema, defaults applied, empty strings dropped."""
    if not isinstance(inputs, dict):
        raise InputError(f"Invalid input: inputs must be a JSON object, not {type(inputs).__name__}")
    errors = schema_errors(trigger.input_schema, inputs)
    if errors:
        raise InputError("Invalid input: " + schema_error_message(errors[0]))
    checked = {}
    for field, prop in manifest.load_schema(trigger.input_schema)["properties"].items():
        value = inputs.get(field, prop.get("default"))
        if value is not None and value != "":
            checked[field] = value
    return checked


def _scope(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What a state belongs to: the trigger, and for new_pin the board and section."""
    if name == "new_board":
        return {"trigger": name}
    return {"trigger": name, "board_id": inputs["board_id"], "board_section_id": inputs.get("board_section_id")}


def _describe(scope: dict[str, Any]) -> str:
    if "board_id" not in scope:
        return f"trigger {scope.get('trigger')!r}"
    section = scope.get("board_section_id")
    where = f"board {scope.get('board_id')}" + (f" section {section}" if section else "")
    return f"trigger {scope.get('trigger')!r} on {where}"


def state_max_bytes() -> int:
    """The most a state may weigh as compact JSON: the manifest's ``trigger_state_max_bytes``."""
    limit = manifest.spec().trigger_state_max_bytes
    assert limit is not None, "plugin.yaml declares triggers, so its schema requires trigger_state_max_bytes"
    return limit


def state_bytes(state: Any) -> int | None:
    """The size of ``state`` as compact JSON (as the CLI stores it); ``None`` if it is not JSON."""
    try:
        return len(json.dumps(state, separators=(",", ":"), allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        return None


def _check_mark(at_text: Any, again: str) -> datetime | None:
    """The mark of a state, checked: ``None``, or written as :func:`time_text` writes it, at or
    after :data:`EARLIEST`, and at most :data:`MAX_SKEW` seconds ahead of this host's clock."""
    if at_text is None:
        return None
    at = parse_time(at_text)
    if at is None or time_text(at) != at_text:
        raise PollError(f"The state is damaged ('created_at' is not a date-time as this plugin writes it): {again}")
    if at < EARLIEST:
        raise PollError(f"The state's mark {at_text} is older than Pinterest itself: {again}")
    ahead = at.timestamp() - time.time()
    if ahead > MAX_SKEW:
        raise PollError(
            f"The state's mark {at_text} is {ahead:.0f} seconds in the future (more than the {MAX_SKEW} seconds "
            f"a clock may be off): this plugin never writes such a state; {again} (or set this host's clock right)"
        )
    return at


def _check_ids(ids: Any, again: str) -> frozenset[str]:
    if not isinstance(ids, list):
        raise PollError(f"The state is damaged ('ids' is not a list): {again}")
    if len(ids) > MAX_SEEN:
        raise PollError(
            f"The state holds {len(ids)} ids, more than the {MAX_SEEN} this plugin keeps: "
            f"it is not one this plugin returned; {again}"
        )
    if not all(is_item_id(i) for i in ids):
        raise PollError(f"The state is damaged ('ids' must be Pinterest IDs of 1 to {MAX_ID_DIGITS} digits): {again}")
    seen = frozenset(ids)
    if len(seen) != len(ids):
        raise PollError(f"The state is damaged ('ids' repeats an id): {again}")
    return seen


def read_state(name: str, inputs: dict[str, Any], state: Any) -> Mark | None:
    """The mark in ``state`` (``None``: no state, the first poll); a :class:`PollError` for a state
    that is not one this trigger could have returned (see the module's notes), or that belongs to
    another trigger, board or section."""
    if state is None:
        return None
    again = f"{FRESH_STATE} to prime the trigger again"
    limit = state_max_bytes()
    size = state_bytes(state)
    if size is None or size > limit:
        over = "is not JSON" if size is None else f"is {size} bytes as JSON, more than the {limit} a state may be"
        raise PollError(f"The state {over}: it is not one this plugin's triggers return; {again}")
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        raise PollError(f"The state is not one this plugin's triggers return: {again}")
    want = _scope(name, inputs)
    have = {key: state.get(key) for key in want}
    if have != want:
        raise PollError(f"The state belongs to {_describe(have)}, not {_describe(want)}: {again}")
    extra = sorted(set(state) - {"v", "created_at", "ids", *want})
    if extra:
        raise PollError(f"The state has keys this plugin never writes ({', '.join(map(repr, extra))[:80]}): {again}")
    at = _check_mark(state.get("created_at"), again)
    ids = _check_ids(state.get("ids"), again)
    if at is None and ids:
        raise PollError(f"The state is damaged ('ids' without a 'created_at' mark): {again}")
    return Mark(at, ids)


def write_state(name: str, inputs: dict[str, Any], mark: Mark, newest_ids: list[str]) -> JsonObject:
    """The state to return: every id at the mark (:func:`advance` fails past :data:`MAX_SEEN`)."""
    at = time_text(mark.at) if mark.at is not None else None
    state: JsonObject = {"v": STATE_VERSION, **_scope(name, inputs), "created_at": at, "ids": list(newest_ids)}
    size = state_bytes(state)
    if size is None or size > state_max_bytes():  # cannot happen with MAX_SEEN ids of MAX_ID_DIGITS: said, not lost
        raise PollError(f"The new state would be {size} bytes, over the {state_max_bytes()} a state may be")
    return state


def _pages(
    client: PinterestClient, run: Run, request: Request, path: str, page_size: int, known: int = 0
) -> Iterator[list[JsonObject]]:
    """The list's pages in order, at most :data:`MAX_PAGES` plus those that ``known`` items already
    seen at the mark can fill (they are read again, to find the new ones among them)."""
    bookmark: str | None = None
    followed: set[str] = set()
    read = 0
    for number in range(1, MAX_PAGES + math.ceil(known / page_size) + 1):
        params: dict[str, Any] = {"page_size": page_size}
        if bookmark:
            params["bookmark"] = bookmark
            followed.add(bookmark)
        page, bookmark = page_of(client.send(request, path, params, None), bookmark)
        read += len(page)
        run.report({"event": "page", "pages": number, "items": read})
        yield page
        if bookmark is None or bookmark in followed:
            return
    raise PollError(
        f"More than {MAX_PAGES} pages of new items since the last poll; nothing was reported and the state "
        f"was kept: {FRESH_STATE} to start from now"
    )


def _read(pages: Iterator[list[JsonObject]], stop_before: Callable[[datetime | None], datetime | None]) -> list[Row]:
    """Rows in list order, each id once, up to the first page whose last item is older than the
    mark ``stop_before(newest so far)`` gives (``None``: read on)."""
    rows: list[Row] = []
    ids: set[str] = set()
    for page in pages:
        for item in page:
            row = _row(item)
            if row.id not in ids:
                ids.add(row.id)
                rows.append(row)
        mark = stop_before(max((r.at for r in rows), default=None))
        if page and mark is not None and _row(page[-1]).at < mark:
            break
    return rows


def _oldest_first(rows: list[Row]) -> list[Row]:
    """By ``created_at``; at one timestamp, in the list's order reversed (the older first)."""
    return sorted(reversed(rows), key=lambda row: row.at)


def advance(mark: Mark | None, rows: list[Row], existing: int) -> tuple[list[Row], Mark, list[str]]:
    """The events (oldest first), the new mark and the ids to keep at it. ``mark`` ``None``: the
    first poll, which primes and reports the newest ``existing`` rows (0: none)."""
    ordered = _oldest_first(rows)
    if mark is None:
        events = ordered[-existing:] if existing else []
        fresh, known = ordered, frozenset[str]()
        at = ordered[-1].at if ordered else None
    else:
        fresh = [r for r in ordered if mark.at is None or r.at > mark.at or (r.at == mark.at and r.id not in mark.ids)]
        events, known = fresh, mark.ids
        at = fresh[-1].at if fresh else mark.at
    kept = [] if mark is None or at != mark.at else sorted(known)
    kept += [r.id for r in fresh if r.at == at and r.id not in known]
    if len(kept) > MAX_SEEN:
        assert at is not None
        kept_now = "the state was kept" if mark is not None else "no state was made"
        raise PollError(
            f"More than {MAX_SEEN} items were created within one second ({time_text(at)}): a state keeps at most "
            f"{MAX_SEEN} ids at its mark, so they cannot be reported without repeats; nothing was reported and "
            f"{kept_now}. A poll succeeds again once an item is created in a later second"
        )
    return events, Mark(at, frozenset(kept)), kept


def _event(row: Row, fields: tuple[str, ...], whole: str) -> JsonObject:
    """The item's main fields (a string or null each) and the whole item under ``whole``."""
    event: JsonObject = {name: value if isinstance(value := row.item.get(name), str) else None for name in fields}
    event[whole] = row.item
    return event


def new_pin(
    client: PinterestClient, run: Run, trigger: Trigger, inputs: dict[str, Any], mark: Mark | None
) -> tuple[list[JsonObject], JsonObject]:
    path = request_path(trigger.request, inputs)
    # Every item at the mark is read again (new ones may be among them): as many pages more as they fill.
    known = len(mark.ids) if mark is not None else MAX_SEEN
    pages = _pages(client, run, trigger.request, path, inputs["page_size"], known)
    # The first poll reads until the page that ends older than its newest pin (nearly always one page).
    rows = _read(pages, lambda newest: newest if mark is None else mark.at)
    existing = min(len(rows), inputs["page_size"]) if mark is None and inputs.get("emit_existing") else 0
    events, new_mark, kept = advance(mark, rows, existing)
    return [_event(r, PIN_FIELDS, "pin") for r in events], write_state(trigger.name, inputs, new_mark, kept)


def new_board(
    client: PinterestClient, run: Run, trigger: Trigger, inputs: dict[str, Any], mark: Mark | None
) -> tuple[list[JsonObject], JsonObject]:
    pages = _pages(client, run, trigger.request, request_path(trigger.request, {}), PAGE_SIZE_MAX)
    rows = _read(pages, lambda newest: None)  # no documented order: every page
    existing = EXISTING_BOARDS if mark is None and inputs.get("emit_existing") else 0
    events, new_mark, kept = advance(mark, rows, existing)
    return [_event(r, BOARD_FIELDS, "board") for r in events], write_state(trigger.name, inputs, new_mark, kept)


Poller = Callable[[PinterestClient, Run, Trigger, dict[str, Any], Mark | None], tuple[list[JsonObject], JsonObject]]


def failed(error: str, state: Any) -> JsonObject:
    """A failed poll: no events, and the state it was given (``None`` if that was not an object)."""
    return {"success": False, "error": error, "events": [], "state": state if isinstance(state, dict) else None}


def output_problem(trigger: Trigger, output: JsonObject) -> str | None:
    """Why ``output`` breaks the trigger's output or event schema (``None``: it does not)."""
    errors = schema_errors(trigger.output_schema, output)
    for event in output["events"]:
        errors = errors or schema_errors(trigger.event_schema, event)
    return errors[0].message[:MAX_DETAIL] if errors else None
