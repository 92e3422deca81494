"""JobService's BatchPredictionJob through Google's Python client: create, get, list, cancel, errors."""

import re

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1

from conftest import upload_model, wait_for_state

JobState = aiplatform_v1.JobState


def batch_job(model, bucket, display_name="ct-predict", labels=None):
    return {
        "display_name": display_name,
        "model": model,
        "labels": labels or {},
        "input_config": {"instances_format": "jsonl", "gcs_source": {"uris": [f"gs://{bucket}/py-batch-in/*.jsonl"]}},
        "output_config": {"predictions_format": "jsonl", "gcs_destination": {"output_uri_prefix": f"gs://{bucket}/py-batch-out"}},
    }


def test_create_get_list_and_cancel(jobs, models, control, project, parent, bucket):
    control.add_rule({"project": project, "displayName": "held"}, {"holdIn": "RUNNING"})
    control.add_rule({"project": project, "displayName": "expires"}, {"outcome": "EXPIRED", "runningMs": 0})
    model = upload_model(models, parent).model

    held = jobs.create_batch_prediction_job(parent=parent, batch_prediction_job=batch_job(f"{model}@default", bucket, "held", {"kind": "held"}))
    assert re.fullmatch(r"projects/\d{12}/locations/us-central1/batchPredictionJobs/\d{19}", held.name)
    assert held.model_version_id == "1"
    expiring = jobs.create_batch_prediction_job(parent=parent, batch_prediction_job=batch_job(model, bucket, "expires"))
    expired = wait_for_state(lambda: jobs.get_batch_prediction_job(name=expiring.name), {"JOB_STATE_EXPIRED"})
    assert expired.state == JobState.JOB_STATE_EXPIRED

    assert [j.name for j in jobs.list_batch_prediction_jobs(request={"parent": parent, "filter": 'labels.kind="held"'})] == [held.name]
    pages = list(jobs.list_batch_prediction_jobs(request={"parent": parent, "page_size": 1}).pages)
    assert [len(p.batch_prediction_jobs) for p in pages] == [1, 1]

    wait_for_state(lambda: jobs.get_batch_prediction_job(name=held.name), {"JOB_STATE_RUNNING"})
    jobs.cancel_batch_prediction_job(name=held.name)
    assert wait_for_state(lambda: jobs.get_batch_prediction_job(name=held.name), {"JOB_STATE_CANCELLED"}).error.code == 1
    with pytest.raises(exceptions.FailedPrecondition, match="cannot be canceled"):
        jobs.cancel_batch_prediction_job(name=held.name)


def test_a_job_with_no_input_files_fails_with_the_reason(jobs, models, parent, bucket):
    model = upload_model(models, parent).model
    job = jobs.create_batch_prediction_job(parent=parent, batch_prediction_job=batch_job(model, bucket))
    failed = wait_for_state(lambda: jobs.get_batch_prediction_job(name=job.name), {"JOB_STATE_FAILED"})
    assert failed.error.code == 3
    assert "No files found matching" in failed.error.message


def test_errors(jobs, parent, bucket):
    with pytest.raises(exceptions.NotFound):
        jobs.create_batch_prediction_job(parent=parent, batch_prediction_job=batch_job(f"{parent}/models/123", bucket))
    bad = batch_job(f"{parent}/models/123", bucket)
    bad["input_config"] = {"gcs_source": {"uris": ["s3://nope"]}}
    with pytest.raises(exceptions.InvalidArgument) as err:
        jobs.create_batch_prediction_job(parent=parent, batch_prediction_job=bad)
    assert "instances_format; Message: Required field is not set" in err.value.message
    assert '"s3://nope" is not a gs:// URI' in err.value.message
