"""CtDataReadyOperator without a Temporal server: its arguments, what it hands the hook, how a
refusal fails the task, and what it logs and returns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk import DAG, Connection
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

from ct_coordinator_airflow import CtCoordinatorHook, CtDataReadyOperator, DataReadyRejected

REPORT = {
    "dataset": "posts",
    "partition": "2026-11-21",
    "reached": [
        {
            "workflowId": "training:staging:engagement:jp:2026-11-21",
            "pipeline": "engagement",
            "segment": "jp",
            "accepted": True,
            "waitingFor": ["likes"],
            "phase": "waiting-for-data",
        },
        {"workflowId": "training:staging:reach:2026-11-21", "pipeline": "reach", "accepted": False, "waitingFor": []},
    ],
    "finished": [{"workflowId": "training:staging:old:2026-11-21", "pipeline": "old"}],
}


@pytest.fixture(autouse=True)
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def get_connection(conn_id: str) -> Any:
        raise AirflowNotFoundException(conn_id)

    monkeypatch.setattr(CtCoordinatorHook, "get_connection", staticmethod(get_connection))


def make_operator(**kwargs: Any) -> CtDataReadyOperator:
    with DAG("ct_tests", schedule=None):
        return CtDataReadyOperator(task_id="signal_posts", environment="staging", dataset="posts", **kwargs)


def test_environment_and_dataset_are_required() -> None:
    with pytest.raises(TypeError):
        CtDataReadyOperator(task_id="t", dataset="posts")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CtDataReadyOperator(task_id="t", environment="staging")  # type: ignore[call-arg]


def test_defaults_and_templated_fields() -> None:
    op = make_operator()
    assert op.partition == "{{ ds }}"
    assert (op.uri, op.source, op.conn_id, op.workflow_timeout) == (
        None,
        None,
        "ct_coordinator_default",
        timedelta(minutes=5),
    )
    assert set(op.template_fields) == {"environment", "dataset", "partition", "uri"}


def test_execute_sends_data_ready_through_temporal_and_returns_the_report(temporal, capsys) -> None:
    temporal.result = REPORT
    op = make_operator(partition="2026-11-21", uri="gs://b/posts/2026-11-21", workflow_timeout=timedelta(seconds=9))
    assert op.execute({}) == REPORT

    (execution,) = temporal.executions
    assert execution["arg"] == {
        "environment": "staging",
        "dataset": "posts",
        "partition": "2026-11-21",
        "uri": "gs://b/posts/2026-11-21",
        "source": "airflow:ct_tests.signal_posts",
    }
    assert execution["execution_timeout"] == timedelta(seconds=9)
    # Airflow 3's task logging is structlog, writing to stdout outside a task runner.
    log = capsys.readouterr().out
    assert "data-ready staging/posts for 2026-11-21 (namespace ct-coordinator" in log
    assert "reached engagement/jp (training:staging:engagement:jp:2026-11-21): accepted" in log
    assert "still waiting for likes" in log
    assert "reached reach (training:staging:reach:2026-11-21): already ready, unchanged" in log
    assert "all its data ready" in log
    assert "already finished, not restarted: old (training:staging:old:2026-11-21)" in log


def test_the_source_is_the_callers_own_when_given_and_at_most_200_characters(temporal) -> None:
    make_operator(partition="2026-11-21", source="backfill-script").execute({})
    make_operator(partition="2026-11-21", source="x" * 300).execute({})
    assert [e["arg"]["source"] for e in temporal.executions] == ["backfill-script", "x" * 200]


def test_the_conn_id_reaches_the_hook(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    def get_connection(conn_id: str) -> Connection:
        if conn_id != "temporal_prod":
            raise AirflowNotFoundException(conn_id)
        return Connection(conn_id=conn_id, conn_type="ct_coordinator", host="temporal.prod:7233", schema="ct-prod")

    monkeypatch.setattr(CtCoordinatorHook, "get_connection", staticmethod(get_connection))
    make_operator(partition="2026-11-21", conn_id="temporal_prod").execute({})
    assert [(c["target"], c["namespace"]) for c in temporal.connects] == [("temporal.prod:7233", "ct-prod")]


def test_a_conn_id_that_does_not_exist_fails_the_task_before_any_connection(temporal) -> None:
    with pytest.raises(AirflowNotFoundException):
        make_operator(partition="2026-11-21", conn_id="temporal_prod").execute({})
    assert temporal.connects == []


def test_a_refusal_fails_the_task_without_retries(temporal) -> None:
    refused = r"refused data-ready \(InvalidInput\): partition '2026-02-30'"
    with pytest.raises(AirflowFailException, match=refused) as failed:
        make_operator(partition="2026-02-30").execute({})
    assert isinstance(failed.value.__cause__, DataReadyRejected)
    assert temporal.executions == []


def test_other_failures_raise_as_they_are_so_retries_apply(monkeypatch: pytest.MonkeyPatch, temporal) -> None:
    temporal.error = TimeoutError("no worker polls the task queue")
    with pytest.raises(TimeoutError):
        make_operator(partition="2026-11-21").execute({})
