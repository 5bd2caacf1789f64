"""The analytics actions: dates checked against Pinterest's rules before sending, the
answer turned into rows a workflow's next node (or a chart) can use.

The rules a schema cannot state are applied here, with their numbers from
plugin.yaml's ``analytics_limits`` (Pinterest's, on UTC days): a ``start_date``
no more than ``max_days_back`` days before today, an ``end_date`` no more than
``max_range_days`` days after ``start_date``. The date format
(``calendar-date``), the pin id limit (100) and the metric enums are in the schemas.

Dates: ``date_range`` (``last_7_days``...: that many days ending today, UTC)
or ``start_date`` (and ``end_date``, today when left out); giving both a
``date_range`` and a date is refused; giving neither means ``last_30_days``.

Every output has ``daily``, one ``{"date": "YYYY-MM-DD", METRIC: value, ...}``
row per day, and ``summary``, the totals per metric; a split answer (several
groups) names its columns ``METRIC (GROUP)``. ``raw`` is Pinterest's answer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..errors import BadResponse, InputError
from ..run import Inputs, JsonObject, Outcome, Run
from ..spec import manifest
from ..spec.model import Action
from ..transport.client import PinterestClient
from .lists import request_path

DEFAULT_RANGE = "last_30_days"
PRESETS = re.compile(r"last_([0-9]+)_days\Z")
COMMA_JOINED = frozenset({"metric_types"})  # list parameters the spec declares with explode: false
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def today_utc() -> dt.date:
    """Today where Pinterest counts its analytics days: UTC."""
    return dt.datetime.now(dt.timezone.utc).date()


def _parse_date(name: str, value: str) -> dt.date:
    if _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"Invalid input: '{name}' must be a date written YYYY-MM-DD, got {value[:40]!r}")


def date_window(inputs: Inputs, today: dt.date) -> tuple[dt.date, dt.date]:
    """The (start, end) dates the inputs ask for, refused with the rule's name when Pinterest would refuse them."""
    preset = inputs.get("date_range")
    if preset is not None and ("start_date" in inputs or "end_date" in inputs):
        raise InputError(
            "Invalid input: give either 'date_range' or 'start_date'/'end_date', not both "
            f"(date_range {preset!r} would pick the dates itself)"
        )
    if "start_date" in inputs:
        start = _parse_date("start_date", inputs["start_date"])
        end = _parse_date("end_date", inputs["end_date"]) if "end_date" in inputs else today
    elif "end_date" in inputs:
        raise InputError("Invalid input: 'start_date' is required when 'end_date' is given")
    else:
        matched = PRESETS.match(preset or DEFAULT_RANGE)
        if not matched:
            raise InputError(f"Invalid input: 'date_range' must be like 'last_30_days', got {preset!r}")
        days = int(matched.group(1))
        start, end = today - dt.timedelta(days=days - 1), today
    limits = manifest.spec().analytics_limits
    assert limits is not None, "plugin.yaml states analytics_limits"
    max_days_back, max_range_days = limits.max_days_back, limits.max_range_days
    earliest = today - dt.timedelta(days=max_days_back)
    if start < earliest:
        raise InputError(
            f"Invalid input: 'start_date' {start.isoformat()} is more than {max_days_back} days back "
            f"from today (UTC {today.isoformat()}): Pinterest's limit; the earliest is {earliest.isoformat()}"
        )
    if end < start:
        raise InputError(f"Invalid input: 'end_date' {end.isoformat()} is before 'start_date' {start.isoformat()}")
    if (end - start).days > max_range_days:
        raise InputError(
            f"Invalid input: 'end_date' {end.isoformat()} is more than {max_range_days} days past "
            f"'start_date' {start.isoformat()}: Pinterest's longest range is {max_range_days} days"
        )
    return start, end


def _params(action: Action, inputs: Inputs, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The query: the inputs the manifest's ``request.query`` names. A list is sent as the spec
    declares it: ``metric_types`` joined with commas (``explode: false``), ``pin_ids`` as one
    parameter per id (no ``explode`` given: OpenAPI's default, ``true``)."""
    values = {**inputs, "start_date": start.isoformat(), "end_date": end.isoformat()}
    params: dict[str, Any] = {}
    for name in action.request.query:
        if name in values:
            value = values[name]
            params[name] = ",".join(value) if isinstance(value, list) and name in COMMA_JOINED else value
    return params


def _object(value: Any, what: str) -> JsonObject:
    if not isinstance(value, dict):
        raise BadResponse(f"{what} is not an object", status=200, sent=True)
    return value


def _metrics(value: Any, what: str) -> dict[str, float]:
    return {k: v for k, v in _object(value, what).items() if isinstance(v, int | float) and not isinstance(v, bool)}


def series(groups: JsonObject) -> tuple[list[JsonObject], dict[str, float]]:
    """``daily`` rows and ``summary`` from Pinterest's ``{group: {daily_metrics, summary_metrics}}``.

    One group (``ALL`` when the data is not split): the metric names as they are.
    Several: ``METRIC (GROUP)``, one column per metric and group.
    """
    rows: dict[str, JsonObject] = {}
    summary: dict[str, float] = {}
    for group, body in groups.items():
        body = _object(body, f"the answer's {group!r}")
        suffix = "" if len(groups) == 1 else f" ({group})"
        daily = body.get("daily_metrics") or []
        if not isinstance(daily, list):
            raise BadResponse(f"'daily_metrics' of {group!r} is not a list", status=200, sent=True)
        for day in daily:
            day = _object(day, "a daily_metrics entry")
            date = day.get("date")
            if not isinstance(date, str):
                raise BadResponse("a daily_metrics entry has no 'date'", status=200, sent=True)
            row = rows.setdefault(date, {"date": date})
            row.update({m + suffix: v for m, v in _metrics(day.get("metrics") or {}, "'metrics'").items()})
        summary.update(
            {m + suffix: v for m, v in _metrics(body.get("summary_metrics") or {}, "'summary_metrics'").items()}
        )
    return [rows[date] for date in sorted(rows)], summary


def _window(start: dt.date, end: dt.date) -> JsonObject:
    return {"start_date": start.isoformat(), "end_date": end.isoformat()}


def analytics(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    """``handler: analytics`` (an account's or one pin's): daily rows, summary, raw."""
    start, end = date_window(inputs, today_utc())
    answer = client.send(
        action.request, request_path(action.request, inputs), _params(action, inputs, start, end), None
    )
    daily, summary = series(answer)
    echoed = {name: inputs.get(name) for name in action.output.inputs}
    return {
        "success": True,
        "error": None,
        **echoed,
        **_window(start, end),
        "daily": daily,
        "summary": summary,
        "raw": answer,
    }


def pins_analytics(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    """``handler: pins_analytics``: several pins. ``pins`` has each pin's daily rows and summary;
    ``daily`` and ``summary`` add the counts up across pins (a rate or an average cannot be
    added up: ``*_RATE`` and ``*_AVG_*`` metrics are in ``pins`` only)."""
    start, end = date_window(inputs, today_utc())
    answer = client.send(
        action.request, request_path(action.request, inputs), _params(action, inputs, start, end), None
    )
    pins = []
    totals: dict[str, JsonObject] = {}
    summary: dict[str, float] = {}
    for pin_id, groups in answer.items():
        daily, pin_summary = series(_object(groups, f"the answer for pin {pin_id}"))
        pins.append({"pin_id": pin_id, "daily": daily, "summary": pin_summary})
        for row in daily:
            total = totals.setdefault(row["date"], {"date": row["date"]})
            for metric, value in row.items():
                if metric != "date" and _additive(metric):
                    total[metric] = total.get(metric, 0) + value
        for metric, value in pin_summary.items():
            if _additive(metric):
                summary[metric] = summary.get(metric, 0) + value
    daily_totals = [totals[date] for date in sorted(totals)]
    return {
        "success": True,
        "error": None,
        **_window(start, end),
        "daily": daily_totals,
        "summary": summary,
        "pins": pins,
        "raw": answer,
    }


def _additive(metric: str) -> bool:
    return not (metric.endswith("_RATE") or "_AVG_" in metric)


def top_pins(action: Action, inputs: Inputs, client: PinterestClient, run: Run) -> Outcome:
    """``handler: top_pins``: each pin's id and its metrics (one flat row per pin), best first."""
    start, end = date_window(inputs, today_utc())
    answer = client.send(
        action.request, request_path(action.request, inputs), _params(action, inputs, start, end), None
    )
    listed = answer.get("pins") or []
    if not isinstance(listed, list):
        raise BadResponse("'pins' is not a list", status=200, sent=True)
    pins = []
    for entry in listed:
        entry = _object(entry, "a pins entry")
        pin_id = entry.get("pin_id")
        if not isinstance(pin_id, str) or not pin_id:
            raise BadResponse("a pins entry has no 'pin_id'", status=200, sent=True)
        pins.append({"pin_id": pin_id, **_metrics(entry.get("metrics") or {}, "'metrics'")})
    return {
        "success": True,
        "error": None,
        **_window(start, end),
        "sort_by": inputs["sort_by"],
        "pins": pins,
        "count": len(pins),
        "raw": answer,
    }
