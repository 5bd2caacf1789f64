"""Refresh the shared OAuth grant on a schedule, well ahead of its expiry.

With a grant shared by many workers (a ``credential_store`` in the connection's
extra, see docs/airflow.md, "Many workers, many machines"), the task that meets
an expired access token refreshes it for everyone. If that worker dies while
its token request is in flight, the rotated tokens Pinterest issued die with it
and the grant has to be authorized again. Refreshing once a day from this DAG
(one token request a day, under the same lease and compare-and-swap as the
workers) keeps the stored access token far from expiry, so tasks almost never
refresh themselves and that window stays rare and watched::

    airflow dags unpause pinterest_refresh

It runs without Airflow retries: the plugin already retried what was safe, and a
refresh whose answer was lost must not be sent again blindly; tomorrow's run, or
`modulex-pinterest auth refresh --credentials STORE`, tries again. A failed run
is the alert to watch: its log says whether to re-authorize (`auth login`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException

from modulex_pinterest.airflow.hooks import PinterestHook


@dag(
    dag_id="pinterest_refresh",
    schedule=timedelta(days=1),  # Pinterest's access tokens last 30 days
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["pinterest", "example"],
    default_args={"retries": 0, "execution_timeout": timedelta(minutes=5)},
)
def pinterest_refresh() -> None:
    @task
    def refresh() -> int | None:
        """Refresh the ``pinterest_default`` connection's stored grant now; the new expiry, Unix seconds."""
        answer = PinterestHook("pinterest_default").refresh_credentials()
        if not answer["success"]:
            raise AirflowFailException(f"Pinterest refresh failed: {answer['error']}")
        expires_at = answer.get("expires_at")
        if expires_at is not None:
            print(f"refreshed: the access token expires at {datetime.fromtimestamp(expires_at, timezone.utc)}")
        return expires_at

    refresh()


pinterest_refresh()
