"""The Langflow base of every generated Pinterest node: its behaviour, through :mod:`.runtime`.

A generated node (``pinterest/*.py``) declares what it is (title, description, icon,
inputs typed from the schemas, outputs) and names its action or trigger; this class
runs it: the action once per build however many outputs are wired, a failure raised
with the plugin's message (the node turns red), pickers filled by the plugin's
options hook, progress shown as the node's status text (always text: a dict status
beside a table output breaks Langflow's run API).
"""

from __future__ import annotations

from typing import Any

from lfx.custom.custom_component.component import Component
from lfx.schema.data import Data
from lfx.schema.dataframe import DataFrame

from ..host.progress import progress_printer
from . import runtime


class PinterestComponent(Component):
    """Runs the action (``action``) or polls the trigger (``trigger``) a generated node names."""

    action: str = ""
    trigger: str = ""

    def _pre_run_setup(self) -> None:
        self._modulex_output: dict[str, Any] | None = None
        self._modulex_events: list[dict[str, Any]] | None = None

    def _field_values(self) -> dict[str, Any]:
        """Every field's value by its input name (renamed attributes mapped back)."""
        return {runtime.field_name(field.name): getattr(self, field.name, None) for field in self.inputs}

    def _show(self, text: str) -> None:
        """Progress (pages, waits, a video's upload and processing): the node's status and its log."""
        self.status = text
        self.log(text)

    def _output(self) -> dict[str, Any]:
        if getattr(self, "_modulex_output", None) is None:
            progress = progress_printer(self._show)
            self._modulex_output = runtime.run_action(self.action, self._field_values(), progress)
        assert self._modulex_output is not None
        return self._modulex_output

    def action_data(self) -> Data:
        """The action's whole output."""
        output = self._output()
        self.status = f"{self.display_name}: done"
        return Data(data=output)

    def action_items(self) -> DataFrame:
        """A list action's items, one row each."""
        items = runtime.items_of(self.action, self._output())
        self.status = f"{len(items)} {'item' if len(items) == 1 else 'items'}"
        return DataFrame(items)

    def _events(self) -> list[dict[str, Any]]:
        if getattr(self, "_modulex_events", None) is None:
            self._modulex_events = runtime.poll(self.trigger, self._field_values())
        assert self._modulex_events is not None
        return self._modulex_events

    def poll_data(self) -> Data:
        """This poll's new events, and how many."""
        events = self._events()
        self.status = f"{len(events)} new {'event' if len(events) == 1 else 'events'}"
        return Data(data={"events": events, "count": len(events)})

    def poll_items(self) -> DataFrame:
        """This poll's new events, one row each."""
        events = self._events()
        self.status = f"{len(events)} new {'event' if len(events) == 1 else 'events'}"
        return DataFrame(events)

    def update_build_config(self, build_config: Any, field_value: Any, field_name: str | None = None) -> Any:
        """The editor asks when a node is placed and when a field with ``real_time_refresh`` changes:
        the pickers are filled by the plugin (:func:`.runtime.refresh_pickers`)."""
        values = self._field_values()
        changed = (build_config.get(field_name) or {}) if field_name is not None else {}
        # A global variable's field (load_from_db) sends the variable's NAME as field_value; the
        # component already holds the value Langflow resolved from it, so that one is kept.
        if field_name is not None and not changed.get("load_from_db"):
            values[runtime.field_name(field_name)] = field_value
        runtime.refresh_pickers(self.action or self.trigger, build_config, values, field_name)
        return build_config
