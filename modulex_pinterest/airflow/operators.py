"""``PinterestActionOperator``: one Pinterest action as one Airflow task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from ..contract import Failure
from ..host import HostError, StoreError
from . import DEFAULT_CONN_ID
from .hooks import PinterestConnectionError, PinterestHook

TIMEOUT_MARGIN = 5.0  # seconds the action's deadline ends before the task's execution_timeout...
TIMEOUT_MARGIN_SHARE = 0.2  # ...or this share of a short one
MIN_DEADLINE = 0.5


class PinterestActionOperator(BaseOperator):
    """Run one action of the Pinterest plugin; its output is the task's XCom value.

    :param action: the action's name (``modulex-pinterest actions`` lists them).
    :param inputs: the action's inputs (templated, so a value may come from
        another task's XCom: ``"{{ ti.xcom_pull(task_ids='list_boards')['boards'][0]['id'] }}"``).
    :param pinterest_conn_id: the ``pinterest`` connection.
    :param settings: plugin settings over the connection's (``deadline``, ``timeout``, ...).

    When the action fails (``success`` false) the task fails with the plugin's
    error text (secrets already redacted). Whether Airflow may retry it is the
    plugin's word (the host contract's ``report_failure``: ``retryable``):

    - not retryable: ``AirflowFailException``, so the task fails **without**
      Airflow's retries. That is a create whose outcome is unknown (a timeout,
      a 5xx, an unusable answer: it may have happened, and sending it again
      could duplicate it; the plugin already retried what was safe within its
      deadline), and any failure a retry cannot change (bad inputs, bad
      credentials, 400, 401, 403, 404);
    - retryable (429, a 5xx or a timeout of a read or an update, a create that
      was surely not sent): ``AirflowException``, retried per the task's ``retries``.

    With an ``execution_timeout``, the action's deadline (retries, waits, paging,
    uploads) ends 5 s before it (a fifth of it when shorter), so the plugin stops
    and reports, rather than Airflow killing the task mid-create. Progress
    (pages fetched, waits, upload percentages) goes to the task log.

    An unknown action or an unusable connection fails without retries too; a
    credential store that cannot be reached is retried.
    """

    template_fields: Sequence[str] = ("inputs",)
    template_fields_renderers = {"inputs": "json"}
    ui_color = "#fde6e9"

    def __init__(
        self,
        *,
        action: str,
        inputs: dict[str, Any] | None = None,
        pinterest_conn_id: str = DEFAULT_CONN_ID,
        settings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.action = action
        self.inputs = inputs if inputs is not None else {}
        self.pinterest_conn_id = pinterest_conn_id
        self.settings = settings

    def _deadline(self) -> float | None:
        """The plugin's deadline under the task's ``execution_timeout``, so the action ends (and says
        how) before Airflow kills the task: a killed create would be retried by Airflow, unknowing."""
        if self.execution_timeout is None:
            return None
        limit = self.execution_timeout.total_seconds()
        return max(MIN_DEADLINE, limit - min(TIMEOUT_MARGIN, limit * TIMEOUT_MARGIN_SHARE))

    def execute(self, context: Any) -> dict[str, Any]:
        hook = PinterestHook(self.pinterest_conn_id, settings=self.settings)
        reports: list[Failure] = []
        try:
            output = hook.run(self.action, self.inputs, deadline=self._deadline(), report_failure=reports.append)
        except (HostError, PinterestConnectionError) as error:
            raise AirflowFailException(str(error)) from None
        except StoreError as error:
            raise AirflowException(str(error)) from None
        if output.get("success"):
            return output
        message = f"Pinterest {self.action} failed: {output.get('error') or 'no error text'}"
        if reports and reports[-1].get("retryable"):
            raise AirflowException(message)
        raise AirflowFailException(f"{message} (not retried by Airflow: running it again cannot help or is not safe)")
