"""Hook that tells ct-coordinator a dataset partition is ready, through Temporal.

ct-coordinator's TypeScript worker owns the pipeline config, so Airflow does not need to know which
training runs wait for a dataset: it executes the worker's short ``routeDataReady`` workflow, which
finds those runs, starts them if need be, delivers data-ready to each and reports back.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypedDict

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from ct_coordinator_airflow.partition import partition_problem

#: The workflow type the ct-coordinator worker serves (contracts/training-run.ts).
ROUTE_DATA_READY_WORKFLOW = "routeDataReady"

#: The ApplicationError type meaning "the request is wrong": retrying cannot help
#: (INVALID_INPUT in contracts/failure-types.ts). Workers before it was the one name said InvalidDataReady.
INVALID_INPUT = "InvalidInput"
INVALID_REQUEST_TYPES = frozenset({INVALID_INPUT, "InvalidDataReady"})

DEFAULT_CONN_ID = "ct_coordinator_default"
# The same defaults and variable names as the worker's and the Temporal CLI's (config/env.ts),
# so one shell set-up serves all of them.
DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "ct-coordinator"
DEFAULT_TASK_QUEUE = "ct-coordinator"


class RunReached(TypedDict, total=False):
    """A training run that data-ready reached (DataReadyAck plus where the run belongs)."""

    workflowId: str
    pipeline: str
    segment: str
    #: False when the dataset was already ready for that run (a repeated signal changes nothing).
    accepted: bool
    #: The datasets the run still waits for after this one.
    waitingFor: list[str]
    phase: str


class RunFinished(TypedDict, total=False):
    """A run of this partition that had already finished: data-ready starts nothing for it."""

    workflowId: str
    pipeline: str
    segment: str


class DataReadyReport(TypedDict):
    """The ``routeDataReady`` workflow's result (DataReadyReport in contracts/training-run.ts)."""

    dataset: str
    partition: str
    reached: list[RunReached]
    finished: list[RunFinished]


class DataReadyRejected(Exception):
    """ct-coordinator refused the request (unknown dataset, malformed partition, …).

    The message is ct-coordinator's own, which says what is wrong; the same request will be refused
    again, so callers should fail rather than retry.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(frozen=True)
class TemporalSettings:
    """Where ct-coordinator's worker listens."""

    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE
    api_key: str | None = field(default=None, repr=False)  # kept out of logs and tracebacks
    tls: bool = False


def data_ready_workflow_id(environment: str, dataset: str, partition: str) -> str:
    """One workflow id per (environment, dataset, partition), as the TS side computes it.

    With USE_EXISTING, concurrent or repeated signals for the same partition join one execution
    instead of racing; ALLOW_DUPLICATE lets a later re-signal (e.g. a cleared Airflow task) run again.
    """
    return f"data-ready:{environment}:{dataset}:{partition}"


def _env(name: str) -> str | None:
    # An empty variable counts as unset, as a shell `FOO=` means (the worker reads them the same way).
    value = os.environ.get(name, "")
    return value or None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class CtCoordinatorHook(BaseHook):
    """Connects to ct-coordinator's Temporal namespace and sends data-ready.

    Each setting comes from the Airflow Connection ``conn_id`` if it exists and sets it (host =
    address, schema = namespace, password or extra ``api_key``, extra ``task_queue`` and ``tls``),
    else from the worker's own variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CT_TASK_QUEUE,
    TEMPORAL_API_KEY, TEMPORAL_TLS), else the defaults. A missing *default* connection is fine, as
    the variables may suffice; a conn_id named explicitly must exist.

    :param conn_id: the Airflow Connection to read; ``None`` reads the environment only.
    :param workflow_timeout: how long the routing workflow may take in all; it normally returns in
        well under a second, so a bound stops a task hanging while no worker polls the task queue.
    """

    conn_name_attr = "conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "ct_coordinator"
    hook_name = "ct-coordinator (Temporal)"

    def __init__(
        self,
        conn_id: str | None = DEFAULT_CONN_ID,
        *,
        workflow_timeout: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.workflow_timeout = workflow_timeout
        self._settings: TemporalSettings | None = None

    @property
    def settings(self) -> TemporalSettings:
        """The resolved settings (read once: a Connection lookup goes through the API server)."""
        if self._settings is None:
            self._settings = self._resolve_settings()
        return self._settings

    def _resolve_settings(self) -> TemporalSettings:
        host = schema = password = None
        extra: dict[str, Any] = {}
        if self.conn_id:
            try:
                conn = self.get_connection(self.conn_id)
            except AirflowNotFoundException:
                if self.conn_id != DEFAULT_CONN_ID:
                    raise
                self.log.debug("no connection %s; reading TEMPORAL_* environment variables", self.conn_id)
            else:
                host, schema, password, extra = conn.host, conn.schema, conn.password, conn.extra_dejson
                if conn.port and host and ":" not in host:
                    host = f"{host}:{conn.port}"
        api_key = password or extra.get("api_key") or _env("TEMPORAL_API_KEY")
        tls = extra.get("tls", _env("TEMPORAL_TLS"))
        return TemporalSettings(
            address=host or _env("TEMPORAL_ADDRESS") or DEFAULT_ADDRESS,
            namespace=schema or _env("TEMPORAL_NAMESPACE") or DEFAULT_NAMESPACE,
            task_queue=extra.get("task_queue") or _env("CT_TASK_QUEUE") or DEFAULT_TASK_QUEUE,
            api_key=api_key,
            # An API key implies TLS, as Temporal Cloud requires (config/temporal.ts does the same).
            tls=_as_bool(tls) if tls is not None else bool(api_key),
        )

    async def aget_client(self) -> Client:
        """A Temporal client for the configured namespace.

        Async only, with no sync ``get_conn``: the SDK's calls run on the event loop of whoever
        awaits them, and :meth:`data_ready` makes (and closes) a loop per call, so a client it
        handed out would outlive its loop.
        """
        s = self.settings
        return await Client.connect(s.address, namespace=s.namespace, api_key=s.api_key, tls=s.tls)

    async def adata_ready(
        self,
        environment: str,
        dataset: str,
        partition: str,
        uri: str | None = None,
        source: str | None = None,
    ) -> DataReadyReport:
        """Async :meth:`data_ready`, for callers that already run an event loop."""
        problem = partition_problem(partition)
        if problem is not None:
            # Refused here, before any connection: a workflow would refuse it the same way.
            raise DataReadyRejected(problem, INVALID_INPUT)
        payload: dict[str, str] = {"environment": environment, "dataset": dataset, "partition": partition}
        if uri:
            payload["uri"] = uri
        if source:
            payload["source"] = source
        client = await self.aget_client()
        try:
            # One plain dict: the worker uses the default JSON payload converter.
            result: DataReadyReport = await client.execute_workflow(
                ROUTE_DATA_READY_WORKFLOW,
                payload,
                id=data_ready_workflow_id(environment, dataset, partition),
                task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                execution_timeout=self.workflow_timeout,
            )
        except WorkflowFailureError as err:
            rejected = _rejection(err)
            if rejected is not None:
                raise rejected from err
            raise
        return result

    def data_ready(
        self,
        environment: str,
        dataset: str,
        partition: str,
        uri: str | None = None,
        source: str | None = None,
    ) -> DataReadyReport:
        """Tell ct-coordinator that ``dataset`` is ready for ``partition`` in ``environment``.

        Returns the report: every training run reached (and what each still waits for) and the
        runs of the partition that had already finished. Raises :class:`DataReadyRejected` when
        ct-coordinator refuses the request; other failures (worker down, timeout) propagate as the
        SDK raised them, so Airflow's retries can deal with them.
        """
        return asyncio.run(self.adata_ready(environment, dataset, partition, uri=uri, source=source))


def _rejection(err: WorkflowFailureError) -> DataReadyRejected | None:
    """The refusal behind a failed workflow, if that is what it is.

    Bad input fails the workflow with InvalidInput, on top or (older workers) under an
    ActivityError: walk the chain.
    """
    cause: BaseException | None = err.cause
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type in INVALID_REQUEST_TYPES:
            return DataReadyRejected(cause.message, cause.type)
        cause = cause.__cause__
    return None
