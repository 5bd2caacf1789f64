"""The store's records of boards and sections (pins are stored as their JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BoardRec:
    id: str
    seq: int
    name: str
    description: str
    theme: str
    privacy: str
    created_at: str
    pins_modified_at: str
    follower_count: int
    lazy_base: int = 0
    lazy_count: int = 0
    pin_seqs: list[int] = field(default_factory=list)  # stored pins, ascending
    section_ids: list[str] = field(default_factory=list)
    # Pins of the lazy block deleted or moved to another board: listings skip them.
    lazy_removed: set[int] = field(default_factory=set)
    is_ads_only: bool = False

    def in_lazy_block(self, seq: int) -> bool:
        return self.lazy_base <= seq < self.lazy_base + self.lazy_count

    def pin_count(self) -> int:
        return self.lazy_count - len(self.lazy_removed) + len(self.pin_seqs)


@dataclass
class SectionRec:
    id: str
    seq: int
    board_id: str
    name: str
    pin_seqs: list[int] = field(default_factory=list)
