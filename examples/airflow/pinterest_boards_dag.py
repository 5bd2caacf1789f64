"""List the boards, then the first board's pins, then check what came back.

Needs ``pip install 'modulex-pinterest[airflow]'`` and a ``pinterest_default``
connection, e.g. against the sandbox (see docs/airflow.md)::

    export AIRFLOW_CONN_PINTEREST_DEFAULT='{"conn_type": "pinterest", "host": "'"$PINTEREST_BASE_URL"'",
                                            "password": "'"$PINTEREST_ACCESS_TOKEN"'"}'
    airflow dags test pinterest_boards
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from modulex_pinterest.airflow.operators import PinterestActionOperator


@dag(dag_id="pinterest_boards", schedule=None, catchup=False, tags=["pinterest", "example"])
def pinterest_boards() -> None:
    list_boards = PinterestActionOperator(
        task_id="list_boards",
        action="list_boards",
        inputs={"page_size": 25},
        pinterest_conn_id="pinterest_default",
    )
    list_pins = PinterestActionOperator(
        task_id="list_pins",
        action="list_pins",
        inputs={"board_id": "{{ ti.xcom_pull(task_ids='list_boards')['boards'][0]['id'] }}", "page_size": 25},
        pinterest_conn_id="pinterest_default",
    )

    @task
    def check(pins: dict[str, Any]) -> int:
        """The pins output as a next task sees it: a success, and a count that matches its list."""
        assert pins["success"] is True, pins["error"]
        assert pins["count"] == len(pins["pins"]), pins
        print(f"board {pins['board_id']}: {pins['count']} pins")
        return int(pins["count"])

    list_boards >> list_pins
    check(list_pins.output)


pinterest_boards()
