"""Airflow's side of ct-coordinator: tell the continuous-training coordinator that data is ready.

``CtDataReadyOperator`` is the task to put after whatever lands a dataset partition;
``CtCoordinatorHook`` is the same call for your own Python code.
"""

from ct_coordinator_airflow.hook import (
    CtCoordinatorHook,
    DataReadyRejected,
    DataReadyReport,
    TemporalSettings,
    data_ready_workflow_id,
)
from ct_coordinator_airflow.operator import CtDataReadyOperator

__all__ = [
    "CtCoordinatorHook",
    "CtDataReadyOperator",
    "DataReadyRejected",
    "DataReadyReport",
    "TemporalSettings",
    "data_ready_workflow_id",
]
