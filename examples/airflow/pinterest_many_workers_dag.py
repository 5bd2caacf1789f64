"""Read many boards at once: one mapped ``list_pins`` task per board, on as many workers as there are.

Every task shares one ``pinterest_default`` connection whose extra names a Redis
credential store and a rate limit, so workers on any machine refresh the OAuth
grant once between them and share one rate budget (see docs/airflow.md,
"Many workers, many machines")::

    export AIRFLOW_CONN_PINTEREST_DEFAULT='{"conn_type": "pinterest",
        "extra": {"credential_store": "redis://10.0.0.5:6379/0?key=pinterest:acme", "rate_limit": 90}}'
    airflow dags trigger pinterest_many_workers --conf '{"board_ids": ["397233545249", "894630526225"]}'

A task whose worker died mid-run (its heartbeat stops) is failed by the scheduler
and retried on a worker that is alive; a retry never refreshes again, as the
token the first refresh stored is still valid. ``.ci/celery`` runs this DAG on
two Celery workers, killing one of them during the second run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from modulex_pinterest.airflow.operators import PinterestActionOperator


@dag(
    dag_id="pinterest_many_workers",
    schedule=None,
    catchup=False,
    tags=["pinterest", "example"],
    params={
        "board_ids": Param([], type="array", items={"type": "string"}, description="the boards to read, one task each"),
        "page_size": Param(25, type="integer", minimum=1, maximum=250),
    },
    default_args={
        # A worker that dies takes its running tasks with it: retry them elsewhere, soon.
        "retries": 3,
        "retry_delay": timedelta(seconds=10),
        # The plugin's deadline ends 5 s before this, so a slow action stops and says why.
        "execution_timeout": timedelta(minutes=10),
    },
)
def pinterest_many_workers() -> None:
    @task
    def board_inputs(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One ``list_pins`` input per board id of the run's conf: every pin, page by page."""
        assert params is not None  # Airflow passes the run's params
        return [
            {"board_id": board_id, "page_size": params["page_size"], "fetch_all": True}
            for board_id in params["board_ids"]
        ]

    pins = PinterestActionOperator.partial(
        task_id="list_pins",
        action="list_pins",
        pinterest_conn_id="pinterest_default",
    ).expand(inputs=board_inputs())

    @task
    def summary(outputs: list[dict[str, Any]]) -> int:
        """What the mapped tasks read: a failed one never gets here (its task failed)."""
        total = sum(int(output["count"]) for output in outputs)
        print(f"{len(outputs)} boards read, {total} pins")
        return total

    summary(pins.output)


pinterest_many_workers()
