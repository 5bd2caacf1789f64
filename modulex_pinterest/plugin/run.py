"""One call's context, apart from HTTP: its deadline, clock, progress, and the
host's file and network policy; and what a handler returns when it fails
after achieving something (:class:`Failed`).

The service makes one :class:`Run` per call and hands it to the credentials'
connection (whose clients time their requests by it) and to the handler.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Progress, ProgressEvent
from .errors import ApiError
from .redaction import install_log_filter
from .settings import Settings
from .spec.model import Action

log = install_log_filter(__name__)
JsonObject = dict[str, Any]
Inputs = dict[str, Any]


@dataclass
class Run:
    """One action, trigger poll or check: ``deadline`` is a ``clock()`` value that bounds
    all of it. ``clock``, ``sleep`` and ``rand`` are there to be replaced in tests."""

    settings: Settings
    progress: Progress | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    deadline: float = field(default=0.0)
    bytes_read: int = 0  # decoded response bytes so far, for budgets across pages

    def __post_init__(self) -> None:
        if not self.deadline:
            self.deadline = self.clock() + self.settings.deadline

    def __repr__(self) -> str:
        return f"Run(seconds_left={self.seconds_left():.1f})"

    @property
    def file_roots(self) -> tuple[Path, ...]:
        """Local files the media actions may read: only under these directories (none: every path refused)."""
        return self.settings.file_roots

    @property
    def allow_private_network(self) -> bool:
        """Whether URLs the plugin itself downloads may reach loopback or private addresses."""
        return self.settings.allow_private_network

    def now(self) -> float:
        return self.clock()

    def seconds_left(self) -> float:
        return self.deadline - self.clock()

    def report(self, event: ProgressEvent) -> None:
        """Tell the host's ``progress`` (if someone is watching) how the call is going; never fails the call."""
        if self.progress is None:
            return
        try:
            self.progress(event)
        except Exception as exc:  # noqa: BLE001 - the host's callback is the host's business
            log.warning("the host's progress callback failed (%s)", type(exc).__name__)


@dataclass(frozen=True)
class Failed:
    """A handler's failure, with what it achieved before: ``fields`` are output fields
    it still returns (the items fetched before a failed page and the bookmark to resume
    from; the ``media_id`` of a finished upload); ``step`` names a step before the
    action's main request (so that request was never sent); ``note`` ends the message."""

    error: ApiError
    fields: JsonObject = field(default_factory=dict)
    step: str | None = None
    note: str = ""


Outcome = JsonObject | Failed
Handler = Callable[["Action", Inputs, Any, Run], Outcome]
