"""A chart of an action's daily series: one line per metric, for a person who would rather look than read.

Any output with a ``daily`` list of rows ``{"date": "YYYY-MM-DD", METRIC: number, ...}``
can be drawn, whichever action produced it (the analytics actions do): every key of
the rows other than ``date`` whose values are numbers is a metric, one line each.
The chart is titled with the action and the date range, its x axis is the date, its
y axis the value (rates, ``*_RATE``, on a right-hand axis of their own), and its
legend names each metric's line.

Drawn with matplotlib (the optional extra: ``pip install 'modulex-pinterest[charts]'``)
through its object API and the Agg renderer, never ``pyplot``: nothing global is
touched, so a server may draw from several threads. The CLI's ``run --chart FILE``
and the MCP server's image blocks use it.
"""

from __future__ import annotations

import datetime
import io
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = "pip install 'modulex-pinterest[charts]'"
FORMATS = {".png": "png", ".svg": "svg"}  # a file's suffix: the format it is drawn in
SIZE = (1000, 500)  # width and height in pixels of a PNG chart (an SVG's in points)
DPI = 100
BACKGROUND = "#ffffff"
PALETTE = (  # one line colour per metric, in order (matplotlib's tab10, whose colours a reader tells apart)
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


class MissingExtra(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


class NotChartable(ValueError):
    """An output with no ``daily`` list of dated rows: there is nothing to draw."""


def require() -> None:
    """Raise :class:`MissingExtra`, saying how to install it, unless matplotlib is importable."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(
            f"charts need the 'matplotlib' package, which is not importable ({exc}); install it with: {INSTALL_HINT}"
        ) from None


def file_format(path: str) -> str:
    """The format a chart file is drawn in, from its suffix (``.png``, ``.svg``); :class:`ValueError` otherwise."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"a chart is a .png or .svg file, not {path!r}")
    return FORMATS[suffix]


def has_daily(schema: Mapping[str, Any]) -> bool:
    """Whether an action's output schema declares a ``daily`` list: its outputs can be charted."""
    daily = (schema.get("properties") or {}).get("daily")
    return isinstance(daily, Mapping) and daily.get("type") in ("array", ["array", "null"])


def _number(value: Any) -> float | None:
    """A metric's value as a float; ``None`` for a day without it (a gap in its line)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def series(output: Mapping[str, Any]) -> tuple[list[datetime.date], dict[str, list[float | None]]]:
    """The days (in order) and, per metric, its value on each day (``None`` where a row lacks it):
    what the chart draws. :class:`NotChartable` when ``output`` has no ``daily`` list of dated rows."""
    daily = output.get("daily")
    if not isinstance(daily, list):
        raise NotChartable("the output has no daily list to chart")
    rows: list[tuple[datetime.date, Mapping[str, Any]]] = []
    for row in daily:
        try:
            rows.append((datetime.date.fromisoformat(str(row["date"])), row))
        except (TypeError, KeyError, ValueError):
            raise NotChartable(f"a daily row without a YYYY-MM-DD date: {row!r:.80}") from None
    rows.sort(key=lambda item: item[0])
    metrics: list[str] = []
    for _, row in rows:  # the metrics in the order the rows first name them
        metrics += [
            key for key, value in row.items() if key != "date" and key not in metrics and _number(value) is not None
        ]
    return [day for day, _ in rows], {metric: [_number(row.get(metric)) for _, row in rows] for metric in metrics}


def is_rate(metric: str) -> bool:
    """A rate (``SAVE_RATE``, a fraction) is drawn against a right-hand axis of its own, so
    it is not flattened to zero beside counts in the thousands."""
    return metric.upper().endswith("_RATE")


def title(action: str, output: Mapping[str, Any], days: Sequence[datetime.date]) -> str:
    """The chart's title: the action and the date range, the output's own (``start_date``,
    ``end_date``) when it states one, else its first and last day."""
    first, last = output.get("start_date"), output.get("end_date")
    if not (isinstance(first, str) and isinstance(last, str)):
        if not days:
            return f"{action}: no days"
        first, last = days[0].isoformat(), days[-1].isoformat()
    return f"{action}: {first}" if first == last else f"{action}: {first} to {last}"


def figure(output: Mapping[str, Any], action: str) -> Figure:
    """The chart of ``output``'s daily series, as a matplotlib ``Figure`` of :data:`SIZE` pixels;
    :class:`MissingExtra` without matplotlib, :class:`NotChartable` without a ``daily`` list."""
    days, values = series(output)
    require()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure

    drawn = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    axes = drawn.add_subplot()
    axes.set_facecolor(BACKGROUND)
    axes.xaxis_date()
    xs = date2num(days)
    rates = axes.twinx() if any(is_rate(metric) for metric in values) else None
    if rates is not None:
        rates.set_ylabel("rate")
    for index, (metric, points) in enumerate(values.items()):
        ys = [math.nan if point is None else point for point in points]
        on = rates if rates is not None and is_rate(metric) else axes
        on.plot(xs, ys, label=metric, color=PALETTE[index % len(PALETTE)], linewidth=2, marker="o", markersize=3)
    axes.set_title(title(action, output, days))
    axes.set_xlabel("date")
    axes.set_ylabel("value")
    axes.grid(True, color="#e0e0e0", linewidth=0.8)
    if values:  # one legend for both axes, in the metrics' order
        lines = axes.get_lines() + (rates.get_lines() if rates is not None else [])
        lines.sort(key=lambda line: list(values).index(str(line.get_label())))
        axes.legend(lines, [str(line.get_label()) for line in lines], loc="best")
    else:
        axes.text(0.5, 0.5, "no daily values", ha="center", va="center", transform=axes.transAxes)
    if days:
        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:  # no scale to read
        axes.set_xticks([])
        axes.set_yticks([])
    return drawn


def draw(output: Mapping[str, Any], action: str, fmt: str = "png") -> bytes:
    """The chart of ``output``'s daily series as a ``fmt`` (``png``, ``svg``) file's bytes; raises as :func:`figure`."""
    chart = figure(output, action)
    buffer = io.BytesIO()
    chart.savefig(buffer, format=fmt, dpi=DPI, facecolor=BACKGROUND)
    return buffer.getvalue()


def save(output: Mapping[str, Any], action: str, path: str) -> None:
    """Write the chart of ``output`` to ``path`` (its suffix names the format), atomically: a
    reader never sees half a chart. Raises as :func:`draw` does, and :class:`OSError`."""
    data = draw(output, action, file_format(path))
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".chart-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
