"""PipelineService through Google's Python client: create, get, list (filters, pages), cancel, errors."""

import re

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1
from google.protobuf import struct_pb2

from conftest import wait_for_state

PipelineState = aiplatform_v1.PipelineState


def pipeline_job(kfp_spec, bucket, display_name="ct-training", labels=None, **params):
    values = {k: struct_pb2.Value(string_value=v) if isinstance(v, str) else struct_pb2.Value(number_value=v) for k, v in {"partition": "2026-11-21", **params}.items()}
    return aiplatform_v1.PipelineJob(
        display_name=display_name,
        labels=labels or {"pipeline": "ct-training"},
        pipeline_spec=kfp_spec,
        runtime_config=aiplatform_v1.PipelineJob.RuntimeConfig(gcs_output_directory=f"gs://{bucket}/py-pipeline-root", parameter_values=values),
    )


def test_create_get_runs_to_succeeded_with_times(pipelines, parent, kfp_spec, bucket):
    created = pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket), pipeline_job_id="train-jp")
    assert re.fullmatch(r"projects/\d{12}/locations/us-central1/pipelineJobs/train-jp", created.name)
    assert created.state == PipelineState.PIPELINE_STATE_QUEUED
    # The spec comes back as the Struct that was sent.
    assert created.pipeline_spec["pipelineInfo"]["name"]

    done = wait_for_state(lambda: pipelines.get_pipeline_job(name=created.name), {"PIPELINE_STATE_SUCCEEDED"})
    assert done.create_time <= done.start_time < done.end_time
    assert not done.error.code
    # Get by the project-id form finds the same job.
    assert pipelines.get_pipeline_job(name=f"{parent}/pipelineJobs/train-jp").name == created.name


def test_list_filters_by_label_and_state_newest_first_with_pages(pipelines, control, project, parent, kfp_spec, bucket):
    control.add_rule({"project": project, "labels": {"outcome": "fail"}}, {"outcome": "FAILED", "runningMs": 0})
    names = []
    for i, outcome in enumerate(["ok", "ok", "fail"]):
        job = pipeline_job(kfp_spec, bucket, labels={"outcome": outcome, "n": str(i)})
        names.append(pipelines.create_pipeline_job(parent=parent, pipeline_job=job, pipeline_job_id=f"job-{i}").name)
    wait_for_state(lambda: pipelines.get_pipeline_job(name=names[2]), {"PIPELINE_STATE_FAILED"})

    ok = pipelines.list_pipeline_jobs(request={"parent": parent, "filter": 'labels.outcome="ok"'})
    assert [j.name for j in ok] == [names[1], names[0]]
    failed = pipelines.list_pipeline_jobs(request={"parent": parent, "filter": 'state="PIPELINE_STATE_FAILED" AND labels.n:*'})
    assert [j.name for j in failed] == [names[2]]

    # The pager follows next_page_token; the raw pages show the tokens.
    pager = pipelines.list_pipeline_jobs(request={"parent": parent, "page_size": 2})
    pages = list(pager.pages)
    assert [len(p.pipeline_jobs) for p in pages] == [2, 1]
    assert pages[0].next_page_token and not pages[1].next_page_token
    assert [j.name for j in pipelines.list_pipeline_jobs(request={"parent": parent, "page_size": 2})] == list(reversed(names))
    second = pipelines.list_pipeline_jobs(request={"parent": parent, "page_size": 2, "page_token": pages[0].next_page_token})
    assert [j.name for j in second] == [names[0]]


def test_cancel_honoured_then_terminal_is_failed_precondition(pipelines, control, project, parent, kfp_spec, bucket):
    control.add_rule({"project": project}, {"holdIn": "RUNNING", "cancellingMs": 200})
    job = pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket))
    wait_for_state(lambda: pipelines.get_pipeline_job(name=job.name), {"PIPELINE_STATE_RUNNING"})

    assert pipelines.cancel_pipeline_job(name=job.name) is None
    assert pipelines.get_pipeline_job(name=job.name).state == PipelineState.PIPELINE_STATE_CANCELLING
    cancelled = wait_for_state(lambda: pipelines.get_pipeline_job(name=job.name), {"PIPELINE_STATE_CANCELLED"})
    assert cancelled.error.code == 1

    with pytest.raises(exceptions.FailedPrecondition, match="is in state PIPELINE_STATE_CANCELLED and cannot be canceled"):
        pipelines.cancel_pipeline_job(name=job.name)


def test_scripted_failure_carries_its_status(pipelines, control, project, parent, kfp_spec, bucket):
    control.add_rule({"project": project}, {"outcome": "FAILED", "error": {"code": 7, "message": "Permission 'aiplatform.metadataStores.get' denied"}, "runningMs": 0})
    job = pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket))
    failed = wait_for_state(lambda: pipelines.get_pipeline_job(name=job.name), {"PIPELINE_STATE_FAILED"})
    assert failed.error.code == 7
    assert "metadataStores" in failed.error.message


def test_errors_have_vertex_codes_and_messages(pipelines, parent, kfp_spec, bucket):
    pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket), pipeline_job_id="dup")
    with pytest.raises(exceptions.AlreadyExists) as dup:
        pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket), pipeline_job_id="dup")
    assert dup.value.message == "Pipeline job with the specified ID already exists."

    with pytest.raises(exceptions.InvalidArgument, match=r'Field: pipeline_job_id; Message: "Train_1" is invalid'):
        pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket), pipeline_job_id="Train_1")
    with pytest.raises(exceptions.InvalidArgument, match=r'Parameter "epochs" must be an integer \(NUMBER_INTEGER\), got a string'):
        pipelines.create_pipeline_job(parent=parent, pipeline_job=pipeline_job(kfp_spec, bucket, epochs="ten"))
    no_root = pipeline_job(kfp_spec, bucket)
    no_root.runtime_config.gcs_output_directory = ""
    with pytest.raises(exceptions.InvalidArgument, match="gcs_output_directory; Message: Required field is not set"):
        pipelines.create_pipeline_job(parent=parent, pipeline_job=no_root)
    with pytest.raises(exceptions.InvalidArgument, match='unsupported field "colour"'):
        list(pipelines.list_pipeline_jobs(request={"parent": parent, "filter": 'colour="red"'}))
    with pytest.raises(exceptions.NotFound):
        pipelines.get_pipeline_job(name=f"{parent}/pipelineJobs/nope")
