"""Injected faults: the failures a client must survive, queued by the test that wants them.

Faults are configured only from Python (``Sandbox.inject_fault`` or the
constructor's ``faults=`` list), never by anything a client sends, so a client
cannot trigger one by accident. Each fault answers the next ``count`` requests
that match its method and path prefix; the first matching fault in the queue
wins, and a fault is dropped once used up.

The upload kinds (``UPLOAD_KINDS``) match only requests to the upload endpoint
(``POST /media-uploads``), whatever their path prefix; the other kinds match
any request, uploads included.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TypeAlias

UPLOAD_KINDS = ("upload_error", "upload_drop", "processing_failed", "processing_slow")
KINDS = ("status", "delay", "drop", "reset", "truncated_json", "non_json", "hang", *UPLOAD_KINDS)
MAX_HANG = 60.0
# A 'status' fault's body: raw text or bytes, or something to send as JSON; None: Pinterest's error.
FaultBody: TypeAlias = bytes | str | dict | list | None


@dataclass
class Fault:
    kind: str
    count: int = 1
    status: int | None = None
    headers: dict[str, str] | None = None
    body: FaultBody = None
    delay: float = 0.0
    method: str | None = None
    path_prefix: str | None = None
    after_bytes: int | None = None  # upload_error/upload_drop: body bytes read first (None: half)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.kind == "status" and not (isinstance(self.status, int) and 100 <= self.status <= 599):
            raise ValueError("a 'status' fault needs status=<HTTP status code>")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.after_bytes is not None and self.after_bytes < 0:
            raise ValueError("after_bytes must not be negative")
        if self.method:
            self.method = self.method.upper()

    def matches(self, method: str, path: str, upload: bool = False) -> bool:
        if self.kind in UPLOAD_KINDS and not upload:
            return False
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str, upload: bool = False) -> Fault | None:
        """Use up one answer of the first fault matching this request (``upload``: a
        request to the upload endpoint), if any."""
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(method, path, upload):
                    fault.count -= 1
                    if fault.count == 0:
                        del self._faults[i]
                    return fault
        return None
