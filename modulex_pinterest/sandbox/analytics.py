"""The analytics endpoints (``user_account/analytics``, ``user_account/analytics/top_pins``,
``pins/analytics``, ``multi_pins/analytics``), from Pinterest's OpenAPI description.

Numbers are made up but steady: each (pin or account, day, metric) gets the same
value on every run, from a hash, with dates relative to today (UTC). Pinterest's
rules are enforced with its 400 answers: dates YYYY-MM-DD, a start no more than
90 days back, an end not before the start and no more than 90 days after it,
metric names from the operation's enum, at most 100 pin ids. With a rate limit,
these endpoints spend a budget of their own (``org_analytics``), apart from the app's
other calls, as Pinterest keeps one per rate-limit category.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs

from .errors import bad_request, pin_not_found
from .store import Store
from .wire import Request, Response, Route, json_response

MAX_DAYS_BACK = MAX_RANGE_DAYS = 90
MAX_PIN_IDS = 100
ANALYTICS_ROUTES = frozenset(
    {
        "/v5/user_account/analytics",
        "/v5/user_account/analytics/top_pins",
        "/v5/pins/analytics",
        "/v5/pins/{pin_id}/analytics",
    }
)
ACCOUNT_METRICS = (
    "ENGAGEMENT",
    "ENGAGEMENT_RATE",
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "OUTBOUND_CLICK_RATE",
    "PIN_CLICK",
    "PIN_CLICK_RATE",
    "SAVE",
    "SAVE_RATE",
)
PIN_METRICS = (
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "PIN_CLICK",
    "SAVE",
    "SAVE_RATE",
    "TOTAL_COMMENTS",
    "TOTAL_REACTIONS",
    "USER_FOLLOW",
    "PROFILE_VISIT",
    "VIDEO_MRC_VIEW",
    "VIDEO_10S_VIEW",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_V50_WATCH_TIME",
    "VIDEO_START",
    "VIDEO_AVG_WATCH_TIME",
)
SORT_BY = ("ENGAGEMENT", "IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE")
SPLITS = {
    "NO_SPLIT": ("ALL",),
    "APP_TYPE": ("MOBILE", "TABLET", "WEB"),
    "OWNED_CONTENT": ("OWNED", "OTHER"),
    "SOURCE": ("YOUR_PINS", "OTHER_PINS"),
    "PIN_FORMAT": ("ORGANIC_IMAGE", "ORGANIC_VIDEO"),
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_RATES = {"ENGAGEMENT_RATE": "ENGAGEMENT", "OUTBOUND_CLICK_RATE": "OUTBOUND_CLICK", "PIN_CLICK_RATE": "PIN_CLICK"}
_RATES["SAVE_RATE"] = "SAVE"
_SHARE = {"IMPRESSION": 1.0, "ENGAGEMENT": 0.06, "SAVE": 0.02, "PIN_CLICK": 0.03, "OUTBOUND_CLICK": 0.01}


def _unit(*parts: object) -> float:
    """A steady pseudo-random number in [0, 1) for these parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _count(key: str, day: dt.date, metric: str, scale: int) -> int:
    base = _SHARE.get(metric, 0.005) * scale
    return int(base * (0.5 + _unit(key, day.isoformat(), metric)))


def _day_metrics(key: str, day: dt.date, metrics: list[str], scale: int) -> dict[str, float]:
    counts: dict[str, float] = {m: _count(key, day, m, scale) for m in set(metrics) | {"IMPRESSION"} if m not in _RATES}
    if "VIDEO_AVG_WATCH_TIME" in counts:
        counts["VIDEO_AVG_WATCH_TIME"] = round(500 + 3000 * _unit(key, day.isoformat(), "avg"), 2)
    values: dict[str, float] = {}
    for metric in metrics:
        if metric in _RATES:
            base = _count(key, day, _RATES[metric], scale)
            values[metric] = round(base / counts["IMPRESSION"], 4) if counts["IMPRESSION"] else 0
        else:
            values[metric] = counts[metric]
    return values


def _metrics_block(key: str, days: list[dt.date], metrics: list[str], scale: int) -> dict:
    daily: list[dict[str, Any]] = [
        {"date": day.isoformat(), "data_status": "READY", "metrics": _day_metrics(key, day, metrics, scale)}
        for day in days
    ]
    summary: dict[str, float] = {}
    for metric in metrics:
        if metric in _RATES:
            impressions = sum(_count(key, d, "IMPRESSION", scale) for d in days)
            clicks = sum(_count(key, d, _RATES[metric], scale) for d in days)
            summary[metric] = round(clicks / impressions, 4) if impressions else 0
        elif metric == "VIDEO_AVG_WATCH_TIME":
            summary[metric] = round(sum(row["metrics"][metric] for row in daily) / len(days), 2)
        else:
            summary[metric] = sum(row["metrics"][metric] for row in daily)
    return {"daily_metrics": daily, "summary_metrics": summary}


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _dates(req: Request) -> list[dt.date]:
    """Every day from start_date to end_date, or Pinterest's 400 for a range it refuses."""
    parsed = []
    for name in ("start_date", "end_date"):
        raw = req.arg(name)
        if raw is None:
            raise bad_request(f"Missing required parameter '{name}'.")
        try:
            if not _DATE.match(raw):
                raise ValueError
            parsed.append(dt.date.fromisoformat(raw))
        except ValueError:
            raise bad_request(f"Parameter '{name}' must be a date YYYY-MM-DD (was {raw[:40]!r}).") from None
    start, end = parsed
    today = _today()
    if start < today - dt.timedelta(days=MAX_DAYS_BACK):
        raise bad_request(f"Invalid parameters: start_date cannot be more than {MAX_DAYS_BACK} days back from today.")
    if end < start:
        raise bad_request("Invalid parameters: end_date cannot be before start_date.")
    if (end - start).days > MAX_RANGE_DAYS:
        raise bad_request(f"Invalid parameters: end_date cannot be more than {MAX_RANGE_DAYS} days past start_date.")
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _choice(req: Request, name: str, allowed: tuple[str, ...] | set[str], default: str) -> str:
    value = req.arg(name) or default
    if value not in allowed:
        raise bad_request(f"Parameter '{name}' must be one of {', '.join(sorted(allowed))} (was {value[:40]!r}).")
    return value


def _list(req: Request, name: str, allowed: tuple[str, ...] | None, default: tuple[str, ...] | None) -> list[str]:
    raw = req.arg(name)
    if raw is None:
        if default is None:
            raise bad_request(f"Missing required parameter '{name}'.")
        return list(default)
    values = [v for v in raw.split(",") if v]
    if not values:
        raise bad_request(f"Parameter '{name}' must not be empty.")
    for value in values:
        if allowed is not None and value not in allowed:
            raise bad_request(f"Parameter '{name}' has an unknown value {value[:40]!r}.")
    return list(dict.fromkeys(values))


def _pin_filters(req: Request) -> None:
    _choice(req, "app_types", ("ALL", "MOBILE", "TABLET", "WEB"), "ALL")


def _account_filters(req: Request) -> None:
    _pin_filters(req)
    _choice(req, "content_type", ("ALL", "PAID", "ORGANIC"), "ALL")
    _choice(req, "source", ("ALL", "YOUR_PINS", "OTHER_PINS"), "ALL")
    _choice(
        req,
        "pin_format",
        (
            "ALL",
            "ORGANIC_IMAGE",
            "ORGANIC_PRODUCT",
            "ORGANIC_VIDEO",
            "ADS_STANDARD",
            "ADS_PRODUCT",
            "ADS_VIDEO",
            "ADS_IDEA",
        ),
        "ALL",
    )
    _choice(req, "from_claimed_content", ("OTHER", "CLAIMED", "BOTH"), "BOTH")


def budget_key(app_id: str, pattern: str) -> str:
    """The rate budget a request spends: the analytics endpoints have their own
    (Pinterest's ``org_analytics`` category), every other endpoint the app's."""
    return f"{app_id}/org_analytics" if pattern in ANALYTICS_ROUTES else app_id


class Analytics:
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [
            ("/v5/user_account/analytics", "GET", ("user_accounts:read",), self.account),
            ("/v5/user_account/analytics/top_pins", "GET", ("pins:read", "user_accounts:read"), self.top_pins),
            ("/v5/pins/analytics", "GET", ("boards:read", "pins:read"), self.pins),
            ("/v5/pins/{pin_id}/analytics", "GET", ("boards:read", "pins:read"), self.pin),
        ]

    def _account_key(self) -> str:
        return f"account:{self.store.seed}"

    def account(self, req: Request) -> Response:
        days = _dates(req)
        _account_filters(req)
        metrics = _list(req, "metric_types", ACCOUNT_METRICS, ACCOUNT_METRICS)
        split = _choice(req, "split_field", tuple(SPLITS), "NO_SPLIT")
        key = self._account_key()
        answer = {group: _metrics_block(f"{key}:{group}", days, metrics, 5000) for group in SPLITS[split]}
        return json_response(200, answer)

    def _pin_ids(self) -> list[str]:
        ids = []
        for board in self.store.boards():
            ids += [pin["id"] for pin in self.store.list_pins(board["id"], None, None, 50)["items"]]
        return ids

    def top_pins(self, req: Request) -> Response:
        days = _dates(req)
        _account_filters(req)
        sort_by = _choice(req, "sort_by", SORT_BY, "")
        metrics = _list(req, "metric_types", ACCOUNT_METRICS, ACCOUNT_METRICS)
        raw_num = req.arg("num_of_pins") or "10"
        if not raw_num.isascii() or not raw_num.isdigit() or not 1 <= int(raw_num) <= 50:
            raise bad_request(f"Parameter 'num_of_pins' must be between 1 and 50 (was {raw_num[:40]!r}).")
        created = req.arg("created_in_last_n_days")
        if created is not None and created != "30":
            raise bad_request("Parameter 'created_in_last_n_days' must be 30.")
        wanted = list(dict.fromkeys([*metrics, sort_by]))
        pins = []
        for pin_id in self._pin_ids():
            summary = _metrics_block(f"pin:{pin_id}", days, wanted, 300)["summary_metrics"]
            pins.append({"pin_id": pin_id, "metrics": summary, "data_status": {m: "READY" for m in summary}})
        pins.sort(key=lambda p: (-p["metrics"][sort_by], p["pin_id"]))
        latest = int(dt.datetime.combine(days[-1], dt.time(23, 59, 59), dt.timezone.utc).timestamp() * 1000)
        answer = {
            "date_availability": {"is_realtime": False, "latest_available_timestamp": latest},
            "pins": pins[: int(raw_num)],
            "sort_by": sort_by,
        }
        return json_response(200, answer)

    def _pin_answer(self, pin_id: str, days: list[dt.date], metrics: list[str]) -> dict:
        block = _metrics_block(f"pin:{pin_id}", days, metrics, 300)
        block["lifetime_metrics"] = {"TOTAL_COMMENTS": int(20 * _unit(pin_id, "comments"))}
        return {"ALL": block}

    def pin(self, req: Request) -> Response:
        days = _dates(req)
        _pin_filters(req)
        metrics = _list(req, "metric_types", PIN_METRICS, None)
        _choice(req, "split_field", ("NO_SPLIT", "APP_TYPE"), "NO_SPLIT")
        pin_id = req.params["pin_id"]
        if self.store.get_pin(pin_id) is None:
            raise pin_not_found()
        return json_response(200, self._pin_answer(pin_id, days, metrics))

    def pins(self, req: Request) -> Response:
        # One parameter per id, as the spec declares it (explode: true); ids joined with commas are taken too.
        sent = parse_qs(req.query, keep_blank_values=True).get("pin_ids", [])
        pin_ids = list(dict.fromkeys(pin_id for value in sent for pin_id in value.split(",") if pin_id))
        if not pin_ids:
            raise bad_request("Missing required parameter 'pin_ids'.")
        if len(pin_ids) > MAX_PIN_IDS:
            raise bad_request(f"Invalid parameters: at most {MAX_PIN_IDS} pin_ids are supported (was {len(pin_ids)}).")
        for pin_id in pin_ids:
            if not (pin_id.isascii() and pin_id.isdigit()):
                raise bad_request("Parameter 'pin_ids' must hold pin ids matching the pattern: ^\\d+$")
        days = _dates(req)
        _pin_filters(req)
        metrics = _list(req, "metric_types", PIN_METRICS, None)
        for pin_id in pin_ids:
            if self.store.get_pin(pin_id) is None:
                raise pin_not_found()
        return json_response(200, {pin_id: self._pin_answer(pin_id, days, metrics) for pin_id in pin_ids})
