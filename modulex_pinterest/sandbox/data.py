"""Deterministic demo content: what boards, sections and pins look like.

Everything here is a pure function of the seed and an item's sequence number,
so two sandboxes with the same seed serve byte-identical data, and a pin of a
large board can be built on demand from its index instead of being stored.
The shapes follow ``components/schemas`` Pin, Board, BoardSection and Account
of Pinterest's OpenAPI description. Optional fields the spec cannot validate as
``null`` (``media``, ``board_owner``, ``privacy``, ``creative_type``) are always
present or left out, never null.
"""

from __future__ import annotations

import calendar
import hashlib
import random
import time
from typing import Any, TypedDict

USERNAME = "sandbox_user"

# Generated pins are dated from here, one minute apart in sequence order, so
# "newest first" by sequence is also newest first by created_at.
BASE_EPOCH = calendar.timegm((2025, 6, 1, 8, 0, 0))
SECONDS_PER_SEQ = 60


class Theme(TypedDict):
    titles: list[str]
    path: str  # the example.com folder its links point into


THEMES: dict[str, Theme] = {
    "kitchen": {
        "titles": [
            "Overnight oats with berries",
            "Lemon ricotta pancakes",
            "Sheet pan chicken fajitas",
            "One-pot creamy tomato pasta",
            "Sourdough starter basics",
            "Brown butter banana bread",
            "Open shelving for small kitchens",
            "Quick pickled red onions",
            "Crispy smashed potatoes",
            "Five-minute shakshuka",
            "Matcha almond muffins",
            "Ginger garlic stir fry",
        ],
        "path": "recipes",
    },
    "travel": {
        "titles": [
            "Three days in Lisbon",
            "Hidden beaches of Crete",
            "Kyoto in cherry blossom season",
            "Packing list for a carry-on trip",
            "Road trip along the Norwegian fjords",
            "Where to eat in Mexico City",
            "A weekend in Edinburgh",
            "Hiking the Dolomites",
            "Budget guide to Vietnam",
            "Northern lights in Iceland",
        ],
        "path": "guides",
    },
    "garden": {
        "titles": [
            "Balcony herb garden",
            "Raised bed vegetable layout",
            "Low-light houseplants",
            "DIY self-watering planter",
            "Companion planting chart",
            "Pollinator friendly flowers",
            "Vertical garden on a fence",
            "Composting in an apartment",
        ],
        "path": "garden",
    },
    "recipes": {
        "titles": [
            "Grandma's apple crumble",
            "Spicy peanut noodles",
            "Roasted cauliflower soup",
            "Classic French omelette",
            "Slow cooker beef ragu",
            "Chickpea coconut curry",
            "Honey glazed salmon",
            "Mushroom risotto",
            "Greek lemon potatoes",
            "Miso glazed eggplant",
            "Homemade pizza dough",
            "Thai green curry",
            "Blueberry cheesecake bars",
            "Falafel wraps",
        ],
        "path": "recipes",
    },
}

SENTENCES = [
    "Saved for later because it looks easy enough for a weeknight.",
    "Step-by-step photos and a printable checklist are included.",
    "Everything you need fits on one page, with tips from readers.",
    "A favourite from last season, updated with new photos.",
    "Pairs well with the other ideas on this board.",
    "Simple, cheap and ready in under thirty minutes.",
]

# (name, description, theme, sections, loose pins, pins per section)
DEMO_BOARDS = [
    (
        "Kitchen ideas",
        "Recipes and kitchen inspiration for everyday cooking.",
        "kitchen",
        ["Breakfast", "Weeknight dinners", "Baking"],
        6,
        5,
    ),
    ("Travel 2026", "Places to go and things to see next year.", "travel", [], 14, 0),
    ("Garden & balcony", "Small-space gardening projects.", "garden", [], 9, 0),
]
BIG_BOARD = ("Recipe archive", "Every recipe worth keeping, in one place.", "recipes", 600)


def iso(epoch: float) -> str:
    """UTC timestamp with a zone, as the spec's date-time format requires."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def seq_time(seq: int) -> str:
    return iso(BASE_EPOCH + seq * SECONDS_PER_SEQ)


def _image_path(image_hash: str) -> str:
    return f"{image_hash[0:2]}/{image_hash[2:4]}/{image_hash[4:6]}/{image_hash}.jpg"


def _portrait_heights(image_hash: str) -> tuple[int, int]:
    """Heights of the 600x and 1200x renditions: portrait, as most pins are."""
    ratio = 1.0 + (int(image_hash[:4], 16) % 60) / 100
    return int(600 * ratio), int(1200 * ratio)


def image_sizes(image_hash: str) -> dict:
    """ImageSize: the four renditions Pinterest serves of an image."""
    path = _image_path(image_hash)
    h600, h1200 = _portrait_heights(image_hash)

    def rendition(name: str, width: int, height: int) -> dict:
        return {"width": width, "height": height, "url": f"https://i.pinimg.com/{name}/{path}"}

    return {
        "150x150": rendition("150x150", 150, 150),
        "400x300": rendition("400x300", 400, 300),
        "600x": rendition("600x", 600, h600),
        "1200x": rendition("1200x", 1200, h1200),
    }


def pin_media(image_hash: str) -> dict:
    """PinMediaWithImage."""
    return {"media_type": "image", "images": image_sizes(image_hash)}


def thumbnail(pin: dict) -> str | None:
    """The 150x150 rendition of a pin's (first) image, whatever its media type."""
    media = pin.get("media") or {}
    images = media.get("images") or ((media.get("items") or [{}])[0].get("images"))
    return images["150x150"]["url"] if images else None


def make_pin(
    *,
    pin_id: str,
    board_id: str,
    section_id: str | None,
    created_at: str,
    title: str | None,
    description: str | None,
    link: str | None,
    alt_text: str | None,
    dominant_color: str | None,
    image_hash: str = "",
    media: dict | None = None,
    creative_type: str = "REGULAR",
) -> dict:
    """A Pin as GET /boards/{id}/pins and POST /pins return it: ``media`` (and its
    ``creative_type``) when given, else an image pin's media from ``image_hash``."""
    pin: dict[str, Any] = {
        "id": pin_id,
        "created_at": created_at,
        "link": link,
        "title": title,
        "description": description,
        "alt_text": alt_text,
        "dominant_color": dominant_color,
        "board_id": board_id,
    }
    if section_id is not None:
        pin["board_section_id"] = section_id
    pin.update(
        {
            "board_owner": {"username": USERNAME},
            "media": media if media is not None else pin_media(image_hash),
            "creative_type": creative_type,
            "is_owner": True,
            "is_standard": True,
            "has_been_promoted": False,
            "note": "",
        }
    )
    return pin


def _generated_fields(seed: int, theme: str, board_id: str, seq: int) -> dict:
    """The varying fields of a demo pin, from seed, board and sequence only."""
    image_hash = hashlib.md5(f"{seed}:{board_id}:{seq}".encode()).hexdigest()
    d = bytes.fromhex(image_hash)
    titles = THEMES[theme]["titles"]
    title = titles[d[15] % len(titles)]
    slug = title.lower().replace("'", "").replace(" ", "-")
    sentences = [SENTENCES[(d[14] + i) % len(SENTENCES)] for i in range(2 + d[13] % 2)]
    return {
        "created_at": seq_time(seq),
        "title": title,
        "description": f"{title}. " + " ".join(sentences),
        "link": f"https://www.example.com/{THEMES[theme]['path']}/{slug}-{int.from_bytes(d[10:13], 'big') % 100000}",
        "alt_text": f"Photo: {title.lower()}",
        "dominant_color": f"#{d[7]:02x}{d[8]:02x}{d[9]:02x}",
        "image_hash": image_hash,
    }


def generated_pin(seed: int, theme: str, pin_id: str, board_id: str, section_id: str | None, seq: int) -> dict:
    """A realistic demo pin (about 1 KB of JSON) derived from seed and sequence only."""
    return make_pin(
        pin_id=pin_id, board_id=board_id, section_id=section_id, **_generated_fields(seed, theme, board_id, seq)
    )


def make_board(
    *,
    board_id: str,
    name: str,
    description: str,
    privacy: str,
    created_at: str,
    pins_modified_at: str,
    pin_count: int,
    follower_count: int,
    thumbnails: list[str],
    is_ads_only: bool = False,
) -> dict:
    """A Board (BoardBase plus privacy); media comes from its newest pins."""
    media: dict = {"pin_thumbnail_urls": thumbnails}
    if thumbnails:
        media["image_cover_url"] = thumbnails[0].replace("/150x150/", "/400x300/")
    return {
        "id": board_id,
        "name": name,
        "description": description,
        "privacy": privacy,
        "owner": {"username": USERNAME},
        "created_at": created_at,
        "board_pins_modified_at": pins_modified_at,
        "pin_count": pin_count,
        "follower_count": follower_count,
        "collaborator_count": 0,
        "is_ads_only": is_ads_only,
        "media": media,
    }


def make_account(seed: int, board_count: int, pin_count: int) -> dict:
    """The Account of GET /user_account: a business account named sandbox_user."""
    rng = random.Random(f"account:{seed}")
    return {
        "account_type": "BUSINESS",
        "id": str(rng.randrange(10**17, 10**18)),
        "username": USERNAME,
        "about": "Demo account served by the modulex-pinterest sandbox.",
        "business_name": "Sandbox Studio",
        "website_url": "https://www.example.com",
        "profile_image": "https://i.pinimg.com/600x600_R/42/f5/36/42f5364bb63bb8ee54d29ba2d84b3a9f.jpg",
        "board_count": board_count,
        "pin_count": pin_count,
        "follower_count": 100 + rng.randrange(5000),
        "following_count": rng.randrange(400),
        "monthly_views": 1000 + rng.randrange(90000),
    }
