"""Airflow's own Google provider against the Vertex AI emulator, unchanged: RunPipelineJobOperator
submits the compiled KFP pipeline and waits for it, UploadModelOperator registers the model it
trained, and the model is read back with GetModelOperator.

Nothing here knows about the emulator. The environment does that, as a developer's would
(docs/vertex-emulator.md, "Google's own clients"): the google_cloud_default connection names a service-account key
file whose token_uri is the emulator's token endpoint, grpc_proxy sends the hooks'
"{region}-aiplatform.googleapis.com:443" to the emulator, and GRPC_DEFAULT_SSL_ROOTS_FILE_PATH
trusts its local CA.
"""

import os

import pendulum
from airflow.providers.google.cloud.operators.vertex_ai.model_service import GetModelOperator, UploadModelOperator
from airflow.providers.google.cloud.operators.vertex_ai.pipeline_job import RunPipelineJobOperator
from airflow.sdk import DAG

PROJECT = os.environ.get("CT_EXAMPLE_PROJECT", "ct-airflow")
REGION = "us-central1"
BUCKET = os.environ.get("CT_EXAMPLE_BUCKET", "ct-airflow-bucket")
TEMPLATE = os.environ.get("CT_EXAMPLE_TEMPLATE", "test/fixtures/kfp/training-pipeline.yaml")
JOB_ID = os.environ.get("CT_EXAMPLE_JOB_ID", "ct-training-example")

with DAG(
    dag_id="vertex_provider_example",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "vertex-ai"],
) as dag:
    train = RunPipelineJobOperator(
        task_id="train",
        project_id=PROJECT,
        region=REGION,
        display_name="ct-training",
        template_path=TEMPLATE,
        job_id=JOB_ID,  # not a templated field of this operator
        pipeline_root=f"gs://{BUCKET}/pipeline-root",
        parameter_values={"partition": "{{ ds }}"},
        labels={"dag": "vertex_provider_example"},
    )
    register = UploadModelOperator(
        task_id="register",
        project_id=PROJECT,
        region=REGION,
        model={
            "display_name": "ct-model-{{ ds_nodash }}",
            "artifact_uri": f"gs://{BUCKET}/pipeline-root/{JOB_ID}/model",
            "container_spec": {"image_uri": "us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.2-1:latest"},
            "labels": {"dag": "vertex_provider_example"},
        },
    )
    check = GetModelOperator(
        task_id="check",
        project_id=PROJECT,
        region=REGION,
        model_id="{{ ti.xcom_pull(task_ids='register', key='model_id') }}",
    )
    train >> register >> check
