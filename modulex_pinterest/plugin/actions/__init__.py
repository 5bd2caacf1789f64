"""The handlers: code for the actions that have logic, one generic path for the rest.

An action's ``handler`` in plugin.yaml names its entry here; an action without
one is plain (:mod:`.plain`): its request and output are declared, not coded.
"""

from __future__ import annotations

from ..run import Handler
from .analytics import analytics, pins_analytics, top_pins
from .lists import list_items
from .media import create_carousel_pin, create_pin_from_file, create_video_pin
from .pins import create_pin
from .plain import run_plain
from .triggers import Poller, new_board, new_pin

HANDLERS: dict[str, Handler] = {
    "plain": run_plain,
    "list": list_items,
    "create_pin": create_pin,
    "create_pin_from_file": create_pin_from_file,
    "create_carousel_pin": create_carousel_pin,
    "create_video_pin": create_video_pin,
    "analytics": analytics,
    "pins_analytics": pins_analytics,
    "top_pins": top_pins,
}
"""Every action's handler by the name plugin.yaml gives it (``handler:``; ``plain`` when none is given)."""

POLLERS: dict[str, Poller] = {"new_pin": new_pin, "new_board": new_board}
"""Every trigger's poller by the name plugin.yaml gives it (``handler:``)."""
