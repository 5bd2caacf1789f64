"""What the command line says, and how: strict JSON on standard output, one
line per message on standard error, progress lines, and the two ways printing
itself can go wrong (a narrow console encoding, a reader that went away).

Standard error is for people: every error is one line, ``modulex-pinterest:
error: ...``. Standard output is for programs: the JSON result and nothing else.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..host import progress

PROG = "modulex-pinterest"


class UsageError(Exception):
    """A mistake in how the command was called (exit 2), unlike an action that failed (exit 1)."""


class Failed(Exception):
    """Something the command was asked to do did not happen (exit 1); the message says what, in one line."""


class OutputError(Failed):
    """An output that strict JSON cannot carry (exit 1): nothing is printed rather than invalid JSON."""


def configure_streams() -> None:
    """Printing never fails on a narrow console encoding (ASCII, a Windows code page):
    what the encoding cannot carry is written as a backslash escape."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (a test's capture), or closed
            pass


def _encodable(text: str) -> bool:
    """Whether standard output's encoding carries ``text`` as it is."""
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        return False
    except LookupError:  # an encoding name Python does not know: assume the best
        return True
    return True


def reader_gone() -> None:
    """Standard output's reader went away (``| head``): point it at the null device,
    so nothing fails when Python flushes it at exit, and carry on quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture)
        pass


def print_json(value: Any) -> None:
    """Print ``value`` as strict JSON (RFC 8259: no NaN or Infinity), or nothing and :class:`OutputError`.

    Non-ASCII text is printed as it is when standard output's encoding carries
    it, else as JSON's own ``\\u`` escapes (still the same JSON). A reader that
    went away is not an error: the command's exit code stays the action's."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        raise OutputError(
            "the output holds a value strict JSON cannot carry (NaN or Infinity, say); nothing was printed"
        ) from None
    if not _encodable(text):
        text = json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)
    try:
        print(text, flush=True)
    except BrokenPipeError:
        reader_gone()


def error_line(message: str) -> None:
    """One line on standard error, ``modulex-pinterest: error: ...`` (line breaks in ``message`` become spaces)."""
    say(f"error: {message}")


def say(message: str) -> None:
    """One line for the person at the terminal, on standard error; never fails the command."""
    try:
        print(f"{PROG}: {' '.join(message.splitlines())}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # standard error closed or gone: nobody to tell
        pass


# ----- run --output json|jsonl|table --------------------------------------------------------

OUTPUT_FORMATS = ("json", "jsonl", "table")
CELL_MAX = 48  # a table column's widest, before it is narrowed to the terminal
CELL_MIN = 12  # ... and its narrowest; past that, columns are left out from the right
GAP = "  "


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _strict_json(value: Any, indent: int | None) -> str:
    """``value`` as strict JSON text (indented, or on one line), else :class:`OutputError`."""
    separators = None if indent else (",", ":")
    try:
        text = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        raise OutputError(
            "the output holds a value strict JSON cannot carry (NaN or Infinity, say); nothing was printed"
        ) from None
    if not _encodable(text):
        text = json.dumps(value, indent=indent, separators=separators, ensure_ascii=True, allow_nan=False)
    return text


def list_field_of(entry: Mapping[str, Any]) -> str | None:
    """The output field holding an action's list: the manifest's ``list_field``, else the one
    property of its output schema that is an array of objects (an analytics ``daily``), else ``None``."""
    if entry.get("list_field"):
        return str(entry["list_field"])
    properties = (entry.get("output_schema") or {}).get("properties") or {}
    lists = [
        name
        for name, schema in properties.items()
        if isinstance(schema, Mapping)
        and schema.get("type") == "array"
        and (schema.get("items") or {}).get("type") == "object"
    ]
    return lists[0] if len(lists) == 1 else None


def _cell(value: Any) -> str:
    """A value in a table cell: text as it is (on one line), ``-`` for nothing, else compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _columns(rows: Sequence[Mapping[str, Any]], item_schema: Mapping[str, Any]) -> list[str]:
    """A table's columns: the item schema's properties, else each key whose values are scalars
    (text, numbers, true/false) in the order first seen, ``id`` first."""
    declared = list((item_schema.get("properties") or {}).keys())
    if declared:
        return declared
    seen: dict[str, bool] = {}
    for row in rows:
        for key, value in row.items():
            scalar = value is None or isinstance(value, str | int | float | bool)
            seen[key] = seen.get(key, True) and scalar
    columns = [key for key, scalar in seen.items() if scalar]
    return sorted(columns, key=lambda key: key != "id")


def render_table(rows: Sequence[Mapping[str, Any]], columns: list[str], width: int) -> list[str]:
    """Rows under a header, each column as wide as its widest cell (at most ``CELL_MAX``),
    then narrowed (the widest first, to ``CELL_MIN``; ids never) and, past that, left out
    from the right until a line fits ``width``; a cut cell ends in ``…``."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    header = [column.upper() for column in columns]
    widths = [max(len(text) for text in [header[i], *(row[i] for row in cells)]) for i in range(len(columns))]
    fixed = [column == "id" or column.endswith("_id") for column in columns]
    widths = [w if fixed[i] else min(CELL_MAX, w) for i, w in enumerate(widths)]

    def total() -> int:
        return sum(widths) + len(GAP) * max(0, len(widths) - 1)

    while len(widths) > 1 and total() > width:
        narrowable = [i for i in range(len(widths)) if not fixed[i] and widths[i] > CELL_MIN]
        if narrowable:
            widths[max(narrowable, key=lambda i: widths[i])] -= 1
        else:
            widths.pop()
    shown = len(widths)
    lines = []
    for row in [header, *cells]:
        line = GAP.join(_clip(text, widths[i]).ljust(widths[i]) for i, text in enumerate(row[:shown]))
        lines.append(line.rstrip())
    return lines


def _table(value: Any, entry: Mapping[str, Any], width: int) -> list[str]:
    """A list output as a table of its items; any other object as a table of its fields."""
    field = list_field_of(entry)
    if (
        isinstance(value, Mapping)
        and value.get("success") is not False
        and field
        and isinstance(value.get(field), list)
    ):
        rows = [item for item in value[field] if isinstance(item, Mapping)]
        if not rows:
            return [f"(no {field})"]
        schema = ((entry.get("output_schema") or {}).get("properties") or {}).get(field) or {}
        return render_table(rows, _columns(rows, schema.get("items") or {}), width)
    if isinstance(value, Mapping):
        pairs = [{"field": key, "value": item} for key, item in value.items()]
        return render_table(pairs, ["field", "value"], width)
    return [_cell(value)]


def format_output(value: Any, mode: str, entry: Mapping[str, Any], terminal: bool, width: int) -> list[str]:
    """An action's output as lines of text in ``mode`` (``--output``):

    ``json``: the output object, indented on a terminal, on one line otherwise (as ``gh`` does);
    ``jsonl``: a successful list output's items one per line (its list field named by the
    manifest), anything else the object on one line; ``table``: for people, the items (or the
    object's fields) in columns fitted to ``width``. JSON is strict (:class:`OutputError`)."""
    if mode == "table":
        return _table(value, entry, width)
    field = list_field_of(entry)
    if mode == "jsonl" and isinstance(value, Mapping) and value.get("success") is not False and field:
        items = value.get(field)
        if isinstance(items, list):
            return [_strict_json(item, None) for item in items]
    return [_strict_json(value, 2 if mode == "json" and terminal else None)]


def print_output(value: Any, mode: str, entry: Mapping[str, Any]) -> None:
    """Print an action's output in ``mode`` (:func:`format_output`) on standard output;
    a reader that went away is not an error."""
    terminal = _stdout_is_terminal()
    width = shutil.get_terminal_size((100, 24)).columns
    lines = format_output(value, mode, entry, terminal, width)
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()


# ----- Ctrl-C during a whole-list fetch -----------------------------------------------------


class PartialFetch:
    """A whole-list fetch (``fetch_all``) followed page by page through the plugin's page
    events (their ``page_items`` and ``bookmark``), so that Ctrl-C can show what was fetched
    and the bookmark that resumes after it. A ``progress`` callback for :meth:`Host.run`."""

    def __init__(self, entry: Mapping[str, Any], field: str, inputs: Mapping[str, Any]) -> None:
        self.entry, self.field, self.inputs = entry, field, dict(inputs)
        # One value replaced at once: an interrupt between two statements cannot split pages from bookmark.
        self._state: tuple[tuple[tuple[Any, ...], ...], str | None, bool] = ((), inputs.get("bookmark"), False)

    @classmethod
    def watch(cls, entry: Mapping[str, Any], inputs: Any) -> PartialFetch | None:
        """One for a list action run with ``fetch_all``, else ``None``."""
        field = entry.get("list_field")
        if not (field and isinstance(inputs, dict) and inputs.get("fetch_all") is True):
            return None
        return cls(entry, str(field), inputs)

    def __call__(self, event: Mapping[str, Any]) -> None:
        page = event.get("page_items")
        if event.get("event") == "page" and isinstance(page, list):
            pages, _, _ = self._state
            bookmark = event.get("bookmark")
            self._state = ((*pages, tuple(page)), bookmark if isinstance(bookmark, str) else None, bookmark is None)

    @property
    def items(self) -> list[Any]:
        return [item for page in self._state[0] for item in page]

    def interrupted(self) -> tuple[dict[str, Any], str]:
        """The output so far (``success`` false, the items fetched, the bookmark that resumes
        after them) and the line that says how to resume."""
        pages, bookmark, ended = self._state
        items = self.items
        echoed = {name: self.inputs.get(name) for name in (self.entry.get("output") or {}).get("inputs") or ()}
        count = f"{len(items)} {self.field if len(items) != 1 else self.field.removesuffix('s')}"
        if ended and pages:
            note = f"interrupted after {count}: that was the whole list, nothing is left to resume"
        else:
            resume = {key: value for key, value in self.inputs.items() if key != "bookmark"}
            if bookmark:
                resume["bookmark"] = bookmark
            if isinstance(resume.get("max_items"), int) and not isinstance(resume["max_items"], bool):
                resume["max_items"] = max(1, resume["max_items"] - len(items))
            text = json.dumps(resume, ensure_ascii=False, separators=(", ", ": "))
            note = f"interrupted after {count}; resume with --input {shlex.quote(text)}"
        output = {
            "success": False,
            "error": note,
            **echoed,
            self.field: items,
            "count": len(items),
            "bookmark": None if ended else bookmark,
        }
        return output, note


def chain_progress(
    *callbacks: Callable[[Any], None] | None,
) -> Callable[[Any], None] | None:
    """One ``progress`` callback calling each given one in turn (``None`` when none is given)."""
    given = [callback for callback in callbacks if callback is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]

    def each(event: Any) -> None:
        for callback in given:
            callback(event)

    return each


def progress_printer(write: Callable[[str], None] = say) -> Callable[[Mapping[str, Any]], None]:
    """:func:`~..host.progress.progress_printer`, by default a line on standard error for each event."""
    return progress.progress_printer(write)
