"""JobService's CustomJob through Google's Python client: create, get, list (filters, pages), cancel, errors."""

import re
import uuid

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1

from conftest import wait_for_state

JobState = aiplatform_v1.JobState


def custom_job(display_name="ct-trainer", labels=None, replica_count=1, base=None):
    spec = {
        "worker_pool_specs": [
            {"machine_spec": {"machine_type": "n1-standard-4"}, "replica_count": replica_count, "container_spec": {"image_uri": "us-docker.pkg.dev/p/r/trainer:1"}}
        ]
    }
    if base:
        spec["base_output_directory"] = {"output_uri_prefix": base}
    return {"display_name": display_name, "labels": labels or {"run": "r1"}, "job_spec": spec}


def test_create_get_runs_to_succeeded(jobs, parent, bucket):
    job = jobs.create_custom_job(parent=parent, custom_job=custom_job(base=f"gs://{bucket}/py-custom"))
    # Server-made ids: CreateCustomJob has no id field.
    assert re.fullmatch(r"projects/\d{12}/locations/us-central1/customJobs/\d{19}", job.name)
    assert job.state == JobState.JOB_STATE_QUEUED
    done = wait_for_state(lambda: jobs.get_custom_job(name=job.name), {"JOB_STATE_SUCCEEDED"})
    assert done.start_time and done.end_time
    assert done.job_spec.worker_pool_specs[0].container_spec.image_uri == "us-docker.pkg.dev/p/r/trainer:1"


def test_list_by_label_with_pages_and_cancel(jobs, control, project, parent):
    control.add_rule({"project": project}, {"holdIn": "RUNNING"})
    run = f"run-{uuid.uuid4().hex[:8]}"
    mine = jobs.create_custom_job(parent=parent, custom_job=custom_job(labels={"run": run}))
    others = [jobs.create_custom_job(parent=parent, custom_job=custom_job(labels={"run": "other"})).name for _ in range(2)]

    found = jobs.list_custom_jobs(request={"parent": parent, "filter": f'labels.run="{run}"'})
    assert [j.name for j in found] == [mine.name]
    pages = list(jobs.list_custom_jobs(request={"parent": parent, "page_size": 2}).pages)
    assert [len(p.custom_jobs) for p in pages] == [2, 1]
    assert sorted(j.name for p in pages for j in p.custom_jobs) == sorted([mine.name, *others])

    wait_for_state(lambda: jobs.get_custom_job(name=mine.name), {"JOB_STATE_RUNNING"})
    jobs.cancel_custom_job(name=mine.name)
    cancelled = wait_for_state(lambda: jobs.get_custom_job(name=mine.name), {"JOB_STATE_CANCELLED"})
    assert cancelled.error.code == 1
    listed = jobs.list_custom_jobs(request={"parent": parent, "filter": 'state="JOB_STATE_CANCELLED"'})
    assert [j.name for j in listed] == [mine.name]


def test_errors(jobs, parent):
    with pytest.raises(exceptions.InvalidArgument, match="The first worker pool must have replica_count 1"):
        jobs.create_custom_job(parent=parent, custom_job=custom_job(replica_count=2))
    with pytest.raises(exceptions.InvalidArgument, match=r"custom_job\.display_name; Message: Required field is not set"):
        jobs.create_custom_job(parent=parent, custom_job=custom_job(display_name=""))
    with pytest.raises(exceptions.NotFound):
        jobs.get_custom_job(name=f"{parent}/customJobs/123")
