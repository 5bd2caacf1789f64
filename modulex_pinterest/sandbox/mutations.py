"""Creating, changing and deleting boards, sections and pins (``Store``'s mixin).

Called by ``manage.py`` after it has validated the request body. A board or
section gets the next sequence, so it is listed last; a created or saved pin
gets the next sequence too, so it is listed first. A pin moved to another board
or section keeps its sequence and id. A changed pin is stored as a new dict
(pins handed out are shared, never changed in place). Deleting a board deletes
its sections and pins. Every method takes the store's lock.
"""

from __future__ import annotations

import bisect
import threading
import time
from typing import TYPE_CHECKING

from . import data
from .errors import board_not_found, pin_not_found, section_not_found
from .records import BoardRec, SectionRec

if TYPE_CHECKING:

    class _StoreParts:
        _lock: threading.RLock
        _pin_id_base: int
        _boards: dict[str, BoardRec]
        _board_order: list[str]
        _sections: dict[str, SectionRec]
        _pins: dict[int, dict]

        def _take_seq(self, n: int = 1) -> int: ...
        def _lazy_board_of(self, seq: int) -> BoardRec | None: ...
        def _pin(self, seq: int, board: BoardRec) -> dict: ...
        def _board_json(self, board: BoardRec) -> dict: ...
        def add_board(self, name: str, *, description: str = "", privacy: str = "PUBLIC") -> str: ...
        def add_section(self, board_id: str, name: str) -> str: ...

else:
    _StoreParts = object


def _remove(seqs: list[int], seq: int) -> None:
    i = bisect.bisect_left(seqs, seq)
    if i < len(seqs) and seqs[i] == seq:
        del seqs[i]


class Mutations(_StoreParts):
    # ----- boards and sections -------------------------------------------

    def create_board(self, name: str, description: str, privacy: str, is_ads_only: bool) -> dict:
        """POST /boards: an ad-only board is named "Ad-only Pins" and PROTECTED, as the spec says."""
        with self._lock:
            if is_ads_only:
                name, privacy = "Ad-only Pins", "PROTECTED"
            board = self._boards[self.add_board(name, description=description, privacy=privacy)]
            board.created_at = board.pins_modified_at = data.iso(time.time())
            board.is_ads_only = is_ads_only
            return self._board_json(board)

    def _board(self, board_id: str) -> BoardRec:
        board = self._boards.get(board_id)
        if board is None:
            raise board_not_found()
        return board

    def update_board(self, board_id: str, changes: dict) -> dict:
        """PATCH /boards/{id}: ``changes`` holds any of name, description, privacy."""
        with self._lock:
            board = self._board(board_id)
            if "name" in changes:
                board.name = changes["name"]
            if "description" in changes:
                board.description = changes["description"] or ""
            if "privacy" in changes:
                board.privacy = changes["privacy"]
            return self._board_json(board)

    def delete_board(self, board_id: str) -> None:
        """DELETE /boards/{id}: the board, its sections and its pins."""
        with self._lock:
            board = self._board(board_id)
            del self._boards[board_id]
            self._board_order.remove(board_id)
            for section_id in board.section_ids:
                del self._sections[section_id]
            for seq in [seq for seq, pin in self._pins.items() if pin["board_id"] == board_id]:
                del self._pins[seq]

    def create_section(self, board_id: str, name: str) -> dict:
        with self._lock:
            self._board(board_id)
            return {"id": self.add_section(board_id, name), "name": name}

    # ----- pins -----------------------------------------------------------

    def _locate(self, pin_id: str) -> tuple[int, dict, BoardRec]:
        """The pin's sequence, its JSON (stored or generated) and its board; 404 if none."""
        seq = int(pin_id) - self._pin_id_base
        pin = self._pins.get(seq)
        if pin is not None:
            return seq, pin, self._boards[pin["board_id"]]
        board = self._lazy_board_of(seq)
        if board is None or seq in board.lazy_removed:
            raise pin_not_found()
        return seq, self._pin(seq, board), board

    def _target(self, board_id: str | None, section_id: str | None) -> tuple[BoardRec, SectionRec | None]:
        """Where a pin goes: the board (or the section's board when only a section is
        named) and the section, which must be on that board."""
        section = None
        if section_id is not None:
            section = self._sections.get(section_id)
            if section is None:
                raise section_not_found()
        board = self._board(board_id if board_id is not None else section.board_id if section else "")
        if section is not None and section.board_id != board.id:
            raise section_not_found()
        return board, section

    def _detach(self, seq: int, pin: dict, board: BoardRec) -> None:
        """Take the pin out of its board's and section's lists (its stored JSON stays)."""
        if board.in_lazy_block(seq) and seq not in board.pin_seqs:
            board.lazy_removed.add(seq)
        else:
            _remove(board.pin_seqs, seq)
        section = self._sections.get(pin.get("board_section_id") or "")
        if section is not None:
            _remove(section.pin_seqs, seq)
        board.pins_modified_at = data.iso(time.time())

    def _attach(self, seq: int, pin: dict, board: BoardRec, section: SectionRec | None) -> None:
        self._pins[seq] = pin
        bisect.insort(board.pin_seqs, seq)
        if section is not None:
            bisect.insort(section.pin_seqs, seq)
        board.pins_modified_at = data.iso(time.time())

    @staticmethod
    def _placed(pin: dict, board: BoardRec, section: SectionRec | None) -> dict:
        placed = {k: v for k, v in pin.items() if k != "board_section_id"}
        placed["board_id"] = board.id
        if section is not None:
            placed["board_section_id"] = section.id
        return placed

    def update_pin(self, pin_id: str, changes: dict) -> dict:
        """PATCH /pins/{id}: text fields, and a move when board_id or board_section_id is given.
        A pin moved to another board leaves its section unless a section there is named."""
        with self._lock:
            seq, pin, board = self._locate(pin_id)
            new_board_id = changes.get("board_id", board.id)
            if "board_section_id" in changes:
                section_id = changes["board_section_id"]
            else:
                section_id = pin.get("board_section_id") if new_board_id == board.id else None
            target, section = self._target(new_board_id, section_id)
            text = {k: v for k, v in changes.items() if k not in ("board_id", "board_section_id")}
            new = self._placed({**pin, **text}, target, section)
            if target is board and section_id == pin.get("board_section_id"):
                self._pins[seq] = new  # same place: stored (a lazy pin's stored copy wins)
            else:
                self._detach(seq, pin, board)
                self._attach(seq, new, target, section)
            return new

    def delete_pin(self, pin_id: str) -> None:
        with self._lock:
            seq, pin, board = self._locate(pin_id)
            self._detach(seq, pin, board)
            self._pins.pop(seq, None)

    def save_pin(self, pin_id: str, board_id: str | None, section_id: str | None) -> dict:
        """POST /pins/{id}/save: a new pin (new id, created now) with the same content,
        on the board or section given; the original stays where it is."""
        with self._lock:
            _, pin, _ = self._locate(pin_id)
            board, section = self._target(board_id, section_id)
            seq = self._take_seq()
            new = self._placed(pin, board, section)
            new.update(id=str(self._pin_id_base + seq), created_at=data.iso(time.time()))
            self._attach(seq, new, board, section)
            return new
