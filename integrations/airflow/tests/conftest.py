"""Shared set-up: an AIRFLOW_HOME of the tests' own, and a fake Temporal client in place of the SDK's."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Before anything imports Airflow: it reads (and creates) AIRFLOW_HOME, ~/airflow by default.
if not os.environ.get("AIRFLOW_HOME"):
    _home = tempfile.mkdtemp(prefix="ct-airflow-tests-")
    os.environ["AIRFLOW_HOME"] = _home
    atexit.register(shutil.rmtree, _home, True)

from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from ct_coordinator_airflow import hook as hook_module  # noqa: E402

# Variables the hook reads; cleared so the developer's shell cannot change what a test sees.
HOOK_VARIABLES = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "CT_TASK_QUEUE", "TEMPORAL_API_KEY", "TEMPORAL_TLS")


@dataclass
class FakeTemporal:
    """Stands in for temporalio.client.Client: records connect and execute_workflow calls."""

    result: Any = None
    error: BaseException | None = None
    connects: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)

    async def connect(self, target: str, **kwargs: Any) -> FakeTemporal:
        self.connects.append({"target": target, **kwargs})
        return self

    async def execute_workflow(self, workflow: str, arg: Any, **kwargs: Any) -> Any:
        self.executions.append({"workflow": workflow, "arg": arg, **kwargs})
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HOOK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Anything starting with AIRFLOW_CONN_ could make a connection appear.
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_"):
            monkeypatch.delenv(name)


@pytest.fixture
def temporal(monkeypatch: pytest.MonkeyPatch) -> FakeTemporal:
    """The fake in place of hook.py's Client, so no test reaches a Temporal server."""
    fake = FakeTemporal(result={"dataset": "posts", "partition": "2026-11-21", "reached": [], "finished": []})
    monkeypatch.setattr(hook_module, "Client", fake)
    return fake
