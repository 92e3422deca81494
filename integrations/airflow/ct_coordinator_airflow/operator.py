"""The task that tells ct-coordinator a dataset partition has landed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from ct_coordinator_airflow.hook import DEFAULT_CONN_ID, CtCoordinatorHook, DataReadyRejected, DataReadyReport

if TYPE_CHECKING:
    from airflow.sdk import Context


class CtDataReadyOperator(BaseOperator):
    """Signal ct-coordinator that ``dataset`` is ready for ``partition`` in ``environment``.

    Put it downstream of the task that lands the data. ct-coordinator finds the training runs that
    wait for the dataset (starting them if need be), so the DAG needs no knowledge of pipelines or
    segments. The report (runs reached, what each still waits for, runs already finished) is logged
    and returned, so it lands in XCom for downstream tasks.

    Re-running the task is safe: a dataset already marked ready is acknowledged with
    ``accepted: false`` and changes nothing. A request ct-coordinator refuses (dataset unknown in
    that environment, malformed partition) fails the task at once, without retries, with
    ct-coordinator's message; connection problems raise normally, so ``retries`` applies to them.

    :param environment: the ct-coordinator environment, e.g. ``staging``.
    :param dataset: the dataset name as the pipeline config lists it, e.g. ``instagram_posts``.
    :param partition: the partition in the pipeline's format (templated; the logical date by default).
    :param uri: where the data is, recorded on the runs for the audit trail (templated).
    :param source: who says so; ``airflow:{dag_id}.{task_id}`` by default.
    :param conn_id: the Airflow Connection holding the Temporal settings (see CtCoordinatorHook).
    :param workflow_timeout: bound on the routing workflow, which normally takes under a second.
    """

    template_fields: Sequence[str] = ("environment", "dataset", "partition", "uri")
    ui_color = "#d6ecf3"

    def __init__(
        self,
        *,
        environment: str,
        dataset: str,
        partition: str = "{{ ds }}",
        uri: str | None = None,
        source: str | None = None,
        conn_id: str | None = DEFAULT_CONN_ID,
        workflow_timeout: timedelta = timedelta(minutes=5),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.environment = environment
        self.dataset = dataset
        self.partition = partition
        self.uri = uri
        self.source = source
        self.conn_id = conn_id
        self.workflow_timeout = workflow_timeout

    def execute(self, context: Context) -> DataReadyReport:
        hook = CtCoordinatorHook(self.conn_id, workflow_timeout=self.workflow_timeout)
        settings = hook.settings
        # ct-coordinator keeps at most 200 characters of it; long dag/task ids must not fail the call.
        source = (self.source or f"airflow:{self.dag_id}.{self.task_id}")[:200]
        self.log.info(
            "data-ready %s/%s for %s (namespace %s, task queue %s at %s)",
            self.environment,
            self.dataset,
            self.partition,
            settings.namespace,
            settings.task_queue,
            settings.address,
        )
        try:
            report = hook.data_ready(self.environment, self.dataset, self.partition, uri=self.uri, source=source)
        except DataReadyRejected as err:
            # The same request would be refused again: fail now rather than burn the retries.
            raise AirflowFailException(f"ct-coordinator refused data-ready ({err.error_type}): {err}") from err
        self._log_report(report)
        return report

    def _log_report(self, report: DataReadyReport) -> None:
        for run in report["reached"]:
            name = "/".join(filter(None, [run.get("pipeline"), run.get("segment")]))
            waiting_for = run.get("waitingFor", [])
            waiting = f"still waiting for {', '.join(waiting_for)}" if waiting_for else "all its data ready"
            self.log.info(
                "reached %s (%s): %s, phase %s, %s",
                name,
                run.get("workflowId"),
                "accepted" if run.get("accepted") else "already ready, unchanged",
                run.get("phase"),
                waiting,
            )
        for done in report["finished"]:
            name = "/".join(filter(None, [done.get("pipeline"), done.get("segment")]))
            self.log.info("already finished, not restarted: %s (%s)", name, done.get("workflowId"))
