"""Example: tell ct-coordinator that the day's engagement inputs have landed.

In a real DAG each CtDataReadyOperator sits downstream of the task that lands its dataset; here the
two signals stand alone so the DAG can be triggered by hand (or by the repo's test) to exercise the
whole path: Airflow -> Temporal -> ct-coordinator's routeDataReady -> the training runs.

Every value is a DAG param, so a manual trigger (or ``airflow dags test --conf '{...}'``) can point
it elsewhere: another environment, a dataset name, or a partition other than the logical date.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from ct_coordinator_airflow import CtDataReadyOperator


@dag(
    dag_id="ct_data_ready_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ct-coordinator", "example"],
    params={
        "environment": Param("staging", type="string", description="ct-coordinator environment"),
        "posts_dataset": Param("instagram_posts", type="string", description="first dataset to signal"),
        "profiles_dataset": Param("user_profiles", type="string", description="second dataset to signal"),
        "partition": Param("", type="string", description="partition to signal; empty: the logical date"),
    },
    doc_md=__doc__,
)
def ct_data_ready_example() -> None:
    def signal(task_id: str, dataset: str) -> CtDataReadyOperator:
        return CtDataReadyOperator(
            task_id=task_id,
            environment="{{ params.environment }}",
            dataset=dataset,
            partition="{{ params.partition or ds }}",
            # A repeated signal is harmless (ct-coordinator acknowledges it as unchanged), so
            # transient Temporal errors may be retried; a refused request fails at once regardless.
            retries=2,
            retry_delay=pendulum.duration(seconds=30),
        )

    signal("instagram_posts_ready", "{{ params.posts_dataset }}")
    signal("user_profiles_ready", "{{ params.profiles_dataset }}")


ct_data_ready_example()
