"""The sandbox's boards, sections and pins, and keyset pagination over them.

Every board, section and pin gets a sequence number from one counter. Pins are
listed newest first (descending sequence), boards and sections oldest first
(ascending). A bookmark records the sequence of the last item served, so a
later page continues strictly after it: pins created during a traversal get
higher sequences and never shift, duplicate or hide the items not yet served,
which an offset bookmark would do.

A large board reserves a block of sequences for pins it does not store: pin i
of that block is built by ``data.generated_pin`` when listed, so a
100,000-pin board costs a few integers until someone reads it.

Boards, sections and pins are created, changed and deleted by the methods of
``mutations.Mutations``. A deleted item is simply gone from its lists; since a
bookmark holds a sequence, not an offset, deleting or creating items between
two pages neither repeats nor skips the items not yet served. A pin moved to
another board keeps its sequence (and id), so it is listed there by creation
time. A deleted or moved pin of a lazy block is remembered in its board's
``lazy_removed``; a changed one is stored, and the stored copy wins.

All methods take the store's lock: the HTTP server calls them from many threads.
A stored pin is never changed in place (a change stores a new dict), so the
pages and pins handed out can share it and be serialized outside the lock.
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import heapq
import hmac
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator

from . import data
from .errors import bad_request, board_not_found, section_not_found
from .mutations import Mutations
from .records import BoardRec, SectionRec

PRIVACY_FILTERS = {"ALL", "PUBLIC", "PROTECTED", "SECRET", "PUBLIC_AND_SECRET"}


class Store(Mutations):
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.RLock()
        self._rng = random.Random(f"ids:{seed}")
        self._used_ids: set[str] = set()
        self._next_seq = 1
        # Pin ids are this base plus the pin's sequence: unique, growing with
        # time like Pinterest's, and a lazy pin's id tells which pin it is.
        self._pin_id_base = 813744226400000000 + (seed % 1000) * 10**9
        self._bookmark_key = hashlib.sha256(f"bookmark:{seed}".encode()).digest()
        self._boards: dict[str, BoardRec] = {}
        self._board_order: list[str] = []
        self._sections: dict[str, SectionRec] = {}
        self._pins: dict[int, dict] = {}  # stored pins by sequence (not the generated ones)
        self.clock: Callable[[], float] = time.time  # dates created pins (Sandbox.date_new_pins sets it)

    # ----- building state -------------------------------------------------

    def _take_seq(self, n: int = 1) -> int:
        seq = self._next_seq
        self._next_seq += n
        return seq

    def _new_id(self, digits: int) -> str:
        while True:
            new = str(self._rng.randrange(10 ** (digits - 1), 10**digits))
            if new not in self._used_ids:
                self._used_ids.add(new)
                return new

    def add_board(
        self,
        name: str,
        *,
        description: str = "",
        theme: str = "recipes",
        privacy: str = "PUBLIC",
        lazy_count: int = 0,
        created_at: str | None = None,
        follower_count: int = 0,
    ) -> str:
        """Add a board; ``lazy_count`` pins are generated on demand, dated before any later pin."""
        with self._lock:
            seq = self._take_seq()
            board = BoardRec(
                id=self._new_id(12),
                seq=seq,
                name=name,
                description=description,
                theme=theme,
                privacy=privacy,
                created_at=created_at or data.seq_time(seq),
                pins_modified_at=created_at or data.seq_time(seq),
                follower_count=follower_count,
            )
            if lazy_count:
                board.lazy_base = self._take_seq(lazy_count)
                board.lazy_count = lazy_count
                board.pins_modified_at = data.seq_time(board.lazy_base + lazy_count - 1)
            self._boards[board.id] = board
            self._board_order.append(board.id)
            return board.id

    def add_section(self, board_id: str, name: str) -> str:
        with self._lock:
            board = self._boards[board_id]
            section = SectionRec(id=self._new_id(13), seq=self._take_seq(), board_id=board_id, name=name)
            self._sections[section.id] = section
            board.section_ids.append(section.id)
            return section.id

    def _store_pin(self, board: BoardRec, section: SectionRec | None, seq: int, pin: dict) -> None:
        self._pins[seq] = pin
        board.pin_seqs.append(seq)
        board.pins_modified_at = pin["created_at"]
        if section is not None:
            section.pin_seqs.append(seq)

    def add_generated_pin(self, board_id: str, section_id: str | None) -> str:
        """Store a demo pin built from the seed (used to seed the demo boards)."""
        with self._lock:
            board = self._boards[board_id]
            section = self._sections[section_id] if section_id else None
            seq = self._take_seq()
            pin_id = str(self._pin_id_base + seq)
            self._store_pin(
                board, section, seq, data.generated_pin(self.seed, board.theme, pin_id, board_id, section_id, seq)
            )
            return pin_id

    def load_demo(self) -> None:
        """Fill a fresh store with the demo boards, in the order GET /boards lists them."""
        rng = random.Random(f"demo:{self.seed}")
        for name, description, theme, sections, loose, per_section in data.DEMO_BOARDS:
            board_id = self.add_board(
                name,
                description=description,
                theme=theme,
                created_at=data.iso(data.BASE_EPOCH - 86400 * rng.randrange(30, 400)),
                follower_count=rng.randrange(5, 500),
            )
            for _ in range(loose // 2):
                self.add_generated_pin(board_id, None)
            for section_name in sections:
                section_id = self.add_section(board_id, section_name)
                for _ in range(per_section):
                    self.add_generated_pin(board_id, section_id)
            for _ in range(loose - loose // 2):
                self.add_generated_pin(board_id, None)
        name, description, theme, count = data.BIG_BOARD
        self.add_board(
            name,
            description=description,
            theme=theme,
            lazy_count=count,
            created_at=data.iso(data.BASE_EPOCH - 86400 * rng.randrange(400, 800)),
            follower_count=rng.randrange(5, 500),
        )

    def create_pin(self, fields: dict, build_media: Callable[[str], tuple[dict, str]] | None = None) -> dict:
        """POST /pins after validation: raise 404 for an unknown board or foreign section.
        ``build_media(pin_id)`` gives the pin's media and creative type (default: an image URL's)."""
        with self._lock:
            board = self._boards.get(fields["board_id"])
            if board is None:
                raise board_not_found()
            section = None
            if fields.get("board_section_id") is not None:
                section = self._sections.get(fields["board_section_id"])
                if section is None or section.board_id != board.id:
                    raise section_not_found()
            seq = self._take_seq()
            pin_id = str(self._pin_id_base + seq)
            media, creative_type = build_media(pin_id) if build_media else (None, "REGULAR")
            pin = data.make_pin(
                pin_id=pin_id,
                board_id=board.id,
                section_id=section.id if section else None,
                created_at=data.iso(self.clock()),
                title=fields.get("title"),
                description=fields.get("description"),
                link=fields.get("link"),
                alt_text=fields.get("alt_text"),
                dominant_color=fields.get("dominant_color"),
                image_hash=hashlib.md5(f"{pin_id}:{fields['media_source'].get('url')}".encode()).hexdigest(),
                media=media,
                creative_type=creative_type,
            )
            self._store_pin(board, section, seq, pin)
            return pin

    # ----- reading state --------------------------------------------------

    def _lazy_board_of(self, seq: int) -> BoardRec | None:
        for board in self._boards.values():
            if board.lazy_count and board.lazy_base <= seq < board.lazy_base + board.lazy_count:
                return board
        return None

    def _pin(self, seq: int, board: BoardRec) -> dict:
        """The stored pin itself (not to be changed), or the generated one built afresh."""
        pin = self._pins.get(seq)
        if pin is not None:
            return pin
        return data.generated_pin(self.seed, board.theme, str(self._pin_id_base + seq), board.id, None, seq)

    def get_pin(self, pin_id: str) -> dict | None:
        """A copy of the pin, stored or generated; None if there is no such pin."""
        if not (pin_id.isascii() and pin_id.isdigit()):
            return None
        seq = int(pin_id) - self._pin_id_base
        with self._lock:
            pin = self._pins.get(seq)
            if pin is not None:
                return copy.deepcopy(pin)
            board = self._lazy_board_of(seq)
            return self._pin(seq, board) if board and seq not in board.lazy_removed else None

    def pin_count(self, board_id: str, section_id: str | None = None) -> int:
        with self._lock:
            if section_id is not None:
                return len(self._sections[section_id].pin_seqs)
            return self._boards[board_id].pin_count()

    def boards(self) -> list[dict]:
        """Every board as GET /boards serves it, in listing order."""
        with self._lock:
            return [self._board_json(self._boards[b]) for b in self._board_order]

    def board(self, board_id: str) -> dict:
        """One board as GET /boards/{board_id} serves it; 404 code 40 when there is none."""
        with self._lock:
            board = self._boards.get(board_id)
            if board is None:
                raise board_not_found()
            return self._board_json(board)

    def sections(self, board_id: str) -> list[dict]:
        """A board's sections in listing order, each with its board_id."""
        with self._lock:
            sections = [self._sections[s] for s in self._boards[board_id].section_ids]
            return [{"id": s.id, "name": s.name, "board_id": s.board_id} for s in sections]

    @staticmethod
    def _seqs_before(stored: list[int], lazy: BoardRec | None, before: int | None) -> Iterator[int]:
        """Pin sequences below ``before`` (all without it), newest first: the stored
        ones merged with ``lazy``'s block, minus what was removed from the block."""
        end = len(stored) if before is None else bisect.bisect_left(stored, before)
        newest_stored = (stored[i] for i in range(end - 1, -1, -1))
        if lazy is None or not lazy.lazy_count:
            return newest_stored
        top = lazy.lazy_base + lazy.lazy_count
        top = top if before is None else min(top, before)
        block = (seq for seq in range(top - 1, lazy.lazy_base - 1, -1) if seq not in lazy.lazy_removed)
        return heapq.merge(newest_stored, block, reverse=True)

    def _newest_seqs(self, board: BoardRec, limit: int) -> list[int]:
        return list(itertools.islice(self._seqs_before(board.pin_seqs, board, None), limit))

    def _board_json(self, board: BoardRec) -> dict:
        pins = [self._pin(seq, board) for seq in self._newest_seqs(board, 4)]
        thumbnails = [url for url in map(data.thumbnail, pins) if url]
        return data.make_board(
            board_id=board.id,
            name=board.name,
            description=board.description,
            privacy=board.privacy,
            created_at=board.created_at,
            pins_modified_at=board.pins_modified_at,
            pin_count=board.pin_count(),
            follower_count=board.follower_count,
            thumbnails=thumbnails,
            is_ads_only=board.is_ads_only,
        )

    def account(self) -> dict:
        with self._lock:
            pins = sum(b.pin_count() for b in self._boards.values())
            return data.make_account(self.seed, len(self._boards), pins)

    # ----- bookmarks ------------------------------------------------------

    def _bookmark(self, listing: str, seq: int) -> str:
        """Opaque cursor: the listing it belongs to and the last sequence served, signed."""
        payload = f"{listing}|{seq}"
        sig = hmac.new(self._bookmark_key, payload.encode(), "sha256").hexdigest()[:12]
        return base64.urlsafe_b64encode(f"{payload}|{sig}".encode()).decode().rstrip("=")

    def _after_seq(self, listing: str, bookmark: str | None) -> int | None:
        if bookmark is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(bookmark + "=" * (-len(bookmark) % 4)).decode()
            got_listing, seq, sig = raw.rsplit("|", 2)
            want = hmac.new(self._bookmark_key, f"{got_listing}|{seq}".encode(), "sha256").hexdigest()[:12]
            if got_listing == listing and hmac.compare_digest(sig, want) and seq.isdigit():
                return int(seq)
        except ValueError:  # bad base64, bad utf-8, too few fields
            pass
        raise bad_request("Invalid bookmark: it is not a bookmark returned for this listing.")

    # ----- listings -------------------------------------------------------

    @staticmethod
    def _page(items: list[dict], next_bookmark: str | None) -> dict:
        return {"items": items, "bookmark": next_bookmark}

    def list_boards(self, privacy: str, bookmark: str | None, page_size: int) -> dict:
        listing = f"boards:{privacy}"
        with self._lock:
            after = self._after_seq(listing, bookmark)
            wanted = {"ALL": None, "PUBLIC_AND_SECRET": {"PUBLIC", "SECRET"}}.get(privacy, {privacy})
            boards = [self._boards[b] for b in self._board_order]
            boards = [b for b in boards if (after is None or b.seq > after) and (wanted is None or b.privacy in wanted)]
            page, more = boards[:page_size], len(boards) > page_size
            items = [self._board_json(b) for b in page]
            return self._page(items, self._bookmark(listing, page[-1].seq) if more else None)

    def list_sections(self, board_id: str, bookmark: str | None, page_size: int) -> dict:
        listing = f"sections:{board_id}"
        with self._lock:
            board = self._boards.get(board_id)
            if board is None:
                raise board_not_found()
            after = self._after_seq(listing, bookmark)
            sections = [self._sections[s] for s in board.section_ids]
            sections = [s for s in sections if after is None or s.seq > after]
            page, more = sections[:page_size], len(sections) > page_size
            items = [{"id": s.id, "name": s.name} for s in page]
            return self._page(items, self._bookmark(listing, page[-1].seq) if more else None)

    def list_pins(self, board_id: str, section_id: str | None, bookmark: str | None, page_size: int) -> dict:
        """Newest first: stored pins and the lazy block merged by sequence, descending."""
        with self._lock:
            board = self._boards.get(board_id)
            if board is None:
                raise board_not_found()
            lazy: BoardRec | None = board
            if section_id is None:
                stored, listing = board.pin_seqs, f"pins:{board_id}"
            else:
                section = self._sections.get(section_id)
                if section is None or section.board_id != board_id:
                    raise section_not_found()
                stored, lazy, listing = section.pin_seqs, None, f"pins:{board_id}:{section_id}"
            after = self._after_seq(listing, bookmark)
            seqs = list(itertools.islice(self._seqs_before(stored, lazy, after), page_size + 1))
            more = len(seqs) > page_size
            seqs = seqs[:page_size]
            items = [self._pin(seq, board) for seq in seqs]
            return self._page(items, self._bookmark(listing, seqs[-1]) if more else None)

    # ----- the account's pins and search (GET /pins, /search/pins, /search/boards) ------

    def _board_seqs(self, board: BoardRec, after: int | None) -> Iterator[tuple[int, BoardRec]]:
        return ((seq, board) for seq in self._seqs_before(board.pin_seqs, board, after))

    def _account_seqs(self, after: int | None) -> Iterator[tuple[int, BoardRec]]:
        """Every pin of the account below ``after``, newest first: the boards' listings merged."""
        streams = [self._board_seqs(board, after) for board in self._boards.values()]
        return heapq.merge(*streams, key=lambda tagged: tagged[0], reverse=True)

    def _pin_page(self, listing: str, tagged: Iterator[tuple[int, BoardRec]], page_size: int) -> dict:
        found = list(itertools.islice(tagged, page_size + 1))
        page = found[:page_size]
        items = [self._pin(seq, board) for seq, board in page]
        return self._page(items, self._bookmark(listing, page[-1][0]) if len(found) > page_size else None)

    def list_account_pins(self, bookmark: str | None, page_size: int) -> dict:
        """GET /pins: the account's pins on every board, newest first."""
        with self._lock:
            after = self._after_seq("account_pins", bookmark)
            return self._pin_page("account_pins", self._account_seqs(after), page_size)

    @staticmethod
    def _matches(query: str, *texts: object) -> bool:
        """Every word of the query appears in one of the texts, ignoring case."""
        haystack = " ".join(text for text in texts if isinstance(text, str)).casefold()
        return all(word in haystack for word in query.casefold().split())

    @staticmethod
    def _search_listing(kind: str, query: str) -> str:
        return f"search_{kind}:" + hashlib.sha256(query.encode()).hexdigest()[:16]

    def search_pins(self, query: str, bookmark: str | None, page_size: int) -> dict:
        """GET /search/pins: the account's pins whose title or description has every word, newest first."""
        listing = self._search_listing("pins", query)
        with self._lock:
            after = self._after_seq(listing, bookmark)
            hits = (
                (seq, board)
                for seq, board in self._account_seqs(after)
                if self._matches(query, *(self._pin(seq, board).get(key) for key in ("title", "description")))
            )
            return self._pin_page(listing, hits, page_size)

    def search_boards(self, query: str, bookmark: str | None, page_size: int) -> dict:
        """GET /search/boards: the boards whose name or description has every word, in listing order."""
        listing = self._search_listing("boards", query)
        with self._lock:
            after = self._after_seq(listing, bookmark)
            boards = [self._boards[b] for b in self._board_order]
            boards = [b for b in boards if after is None or b.seq > after]
            boards = [b for b in boards if self._matches(query, b.name, b.description)]
            page, more = boards[:page_size], len(boards) > page_size
            items = [self._board_json(b) for b in page]
            return self._page(items, self._bookmark(listing, page[-1].seq) if more else None)
