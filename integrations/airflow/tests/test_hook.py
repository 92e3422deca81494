"""CtCoordinatorHook without a Temporal server: where its settings come from, what it refuses
before connecting, and the exact Temporal calls it makes (against the fake in conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from airflow.sdk import Connection
from airflow.sdk.exceptions import AirflowNotFoundException
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from ct_coordinator_airflow import CtCoordinatorHook, DataReadyRejected, TemporalSettings, data_ready_workflow_id
from ct_coordinator_airflow.hook import DEFAULT_CONN_ID


def no_connection(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every connection lookup fails as Airflow's does for an unknown conn_id; returns those asked for."""
    asked: list[str] = []

    def get_connection(conn_id: str) -> Connection:
        asked.append(conn_id)
        raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")

    monkeypatch.setattr(CtCoordinatorHook, "get_connection", staticmethod(get_connection))
    return asked


def with_connection(monkeypatch: pytest.MonkeyPatch, conn: Connection) -> None:
    def get_connection(conn_id: str) -> Connection:
        if conn_id != conn.conn_id:
            raise AirflowNotFoundException(conn_id)
        return conn

    monkeypatch.setattr(CtCoordinatorHook, "get_connection", staticmethod(get_connection))


# --- settings ---------------------------------------------------------------------------------


def test_defaults_without_connection_or_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = no_connection(monkeypatch)
    assert CtCoordinatorHook().settings == TemporalSettings(
        address="localhost:7233", namespace="ct-coordinator", task_queue="ct-coordinator", api_key=None, tls=False
    )
    assert asked == [DEFAULT_CONN_ID]


def test_the_workers_variables_are_read_and_empty_ones_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    no_connection(monkeypatch)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "")
    monkeypatch.setenv("CT_TASK_QUEUE", "ct-staging")
    monkeypatch.setenv("TEMPORAL_TLS", "yes")
    assert CtCoordinatorHook().settings == TemporalSettings(
        address="temporal.internal:7233", namespace="ct-coordinator", task_queue="ct-staging", api_key=None, tls=True
    )


def test_an_api_key_implies_tls_unless_tls_is_set_off(monkeypatch: pytest.MonkeyPatch) -> None:
    no_connection(monkeypatch)
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret")
    assert CtCoordinatorHook().settings.tls is True
    monkeypatch.setenv("TEMPORAL_TLS", "false")
    assert CtCoordinatorHook().settings.tls is False


def test_the_api_key_stays_out_of_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    no_connection(monkeypatch)
    monkeypatch.setenv("TEMPORAL_API_KEY", "very-secret")
    assert "very-secret" not in repr(CtCoordinatorHook().settings)


def test_the_connection_wins_over_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    with_connection(
        monkeypatch,
        Connection(
            conn_id=DEFAULT_CONN_ID,
            conn_type="ct_coordinator",
            host="temporal.example",
            port=7233,
            schema="ct-prod",
            password="key-from-connection",
            extra='{"task_queue": "ct-prod-queue", "tls": "false"}',
        ),
    )
    monkeypatch.setenv("TEMPORAL_ADDRESS", "ignored:1")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "ignored")
    monkeypatch.setenv("CT_TASK_QUEUE", "ignored")
    assert CtCoordinatorHook().settings == TemporalSettings(
        address="temporal.example:7233",
        namespace="ct-prod",
        task_queue="ct-prod-queue",
        api_key="key-from-connection",
        tls=False,
    )


def test_a_connection_setting_left_out_falls_back_to_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    with_connection(
        monkeypatch,
        Connection(
            conn_id="temporal_cloud",
            conn_type="ct_coordinator",
            host="ns.tmprl.cloud:7233",
            extra='{"api_key": "from-extra"}',
        ),
    )
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "from-env")
    settings = CtCoordinatorHook("temporal_cloud").settings
    assert settings == TemporalSettings(
        address="ns.tmprl.cloud:7233", namespace="from-env", task_queue="ct-coordinator", api_key="from-extra", tls=True
    )


def test_a_conn_id_named_explicitly_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    no_connection(monkeypatch)
    with pytest.raises(AirflowNotFoundException):
        CtCoordinatorHook("no_such_connection").settings


def test_conn_id_none_reads_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = no_connection(monkeypatch)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "env-only:7233")
    assert CtCoordinatorHook(None).settings.address == "env-only:7233"
    assert asked == []


# --- the Temporal calls -----------------------------------------------------------------------


def test_data_ready_executes_route_data_ready_once_per_partition(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    no_connection(monkeypatch)
    monkeypatch.setenv("TEMPORAL_API_KEY", "k")
    hook = CtCoordinatorHook(workflow_timeout=timedelta(seconds=30))
    report = hook.data_ready("staging", "posts", "2026-11-21", uri="gs://b/posts/2026-11-21", source="airflow:d.t")

    assert report == temporal.result
    assert temporal.connects == [
        {"target": "localhost:7233", "namespace": "ct-coordinator", "api_key": "k", "tls": True}
    ]
    assert temporal.executions == [
        {
            "workflow": "routeDataReady",
            "arg": {
                "environment": "staging",
                "dataset": "posts",
                "partition": "2026-11-21",
                "uri": "gs://b/posts/2026-11-21",
                "source": "airflow:d.t",
            },
            "id": "data-ready:staging:posts:2026-11-21",
            "task_queue": "ct-coordinator",
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            "id_reuse_policy": WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            "execution_timeout": timedelta(seconds=30),
        }
    ]


def test_uri_and_source_are_left_out_when_not_given(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    no_connection(monkeypatch)
    CtCoordinatorHook().data_ready("staging", "posts", "2026-11-21T07", uri="", source=None)
    assert temporal.executions[0]["arg"] == {"environment": "staging", "dataset": "posts", "partition": "2026-11-21T07"}


def test_adata_ready_runs_on_the_callers_event_loop(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    no_connection(monkeypatch)
    report = asyncio.run(CtCoordinatorHook().adata_ready("prod", "posts", "2026-11"))
    assert report == temporal.result
    assert temporal.executions[0]["id"] == "data-ready:prod:posts:2026-11"


@pytest.mark.parametrize("partition", ["2026-02-30", "2026-11-21T24", "21/11/2026", ""])
def test_a_malformed_partition_is_refused_before_any_connection(
    monkeypatch: pytest.MonkeyPatch, temporal, partition: str
) -> None:
    asked = no_connection(monkeypatch)
    with pytest.raises(DataReadyRejected) as refused:
        CtCoordinatorHook().data_ready("staging", "posts", partition)
    assert refused.value.error_type == "InvalidInput"
    assert repr(partition) in str(refused.value)
    assert temporal.connects == [] and temporal.executions == []
    assert asked == []


def workflow_failure(cause: BaseException) -> WorkflowFailureError:
    return WorkflowFailureError(cause=cause)


@pytest.mark.parametrize("error_type", ["InvalidInput", "InvalidDataReady"])
def test_a_refusal_by_the_workflow_becomes_data_ready_rejected(
    monkeypatch: pytest.MonkeyPatch, temporal, error_type: str
) -> None:
    no_connection(monkeypatch)
    temporal.error = workflow_failure(ApplicationError("invalid data-ready: dataset unknown", type=error_type))
    with pytest.raises(DataReadyRejected) as refused:
        CtCoordinatorHook().data_ready("staging", "nope", "2026-11-21")
    assert (str(refused.value), refused.value.error_type) == ("invalid data-ready: dataset unknown", error_type)
    assert isinstance(refused.value.__cause__, WorkflowFailureError)


def test_a_refusal_under_an_activity_error_is_found_too(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    no_connection(monkeypatch)
    activity = ActivityError(
        "activity failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="routeDataReady",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    activity.__cause__ = ApplicationError("unknown dataset nope", type="InvalidDataReady")
    temporal.error = workflow_failure(activity)
    with pytest.raises(DataReadyRejected, match="unknown dataset nope"):
        CtCoordinatorHook().data_ready("staging", "nope", "2026-11-21")


def test_other_workflow_failures_propagate_as_the_sdk_raised_them(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    no_connection(monkeypatch)
    failure = workflow_failure(ApplicationError("Vertex is down", type="VertexUnavailable"))
    temporal.error = failure
    with pytest.raises(WorkflowFailureError) as raised:
        CtCoordinatorHook().data_ready("staging", "posts", "2026-11-21")
    assert raised.value is failure


def test_connection_errors_propagate(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    no_connection(monkeypatch)

    async def refuse(target: str, **kwargs: object) -> None:
        raise RuntimeError(f"Failed client connect: {target}")

    monkeypatch.setattr(temporal, "connect", refuse)
    with pytest.raises(RuntimeError, match="localhost:7233"):
        CtCoordinatorHook().data_ready("staging", "posts", "2026-11-21")


def test_the_workflow_id_is_one_per_environment_dataset_and_partition() -> None:
    assert data_ready_workflow_id("staging", "posts", "2026-11-21") == "data-ready:staging:posts:2026-11-21"
