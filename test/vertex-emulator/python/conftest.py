"""Fixtures for driving the Vertex AI emulator through Google's Python client (aiplatform_v1).

The suite runs under stack/sandbox.ts, which starts an emulator and a fake-gcs-server of
its own and says where they are in SANDBOX_* variables (test/vertex-emulator/python-client.test.ts
runs it in a loopback-only network namespace).
"""

import os

# gRPC's own variable for the CA bundle it trusts by default, as a developer's shell would set it:
# the emulator's local CA (replacing any bundle the machine names). gRPC reads its configuration
# once, so this comes before `import grpc`.
if os.environ.get("SANDBOX_VERTEX_CA"):
    os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = os.environ["SANDBOX_VERTEX_CA"]

import json  # noqa: E402
import pathlib  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402

import grpc  # noqa: E402
import pytest
import yaml
from google.cloud import aiplatform_v1, monitoring_v3
from google.cloud.aiplatform_v1.services.endpoint_service.transports import EndpointServiceGrpcTransport
from google.cloud.aiplatform_v1.services.job_service.transports import JobServiceGrpcTransport
from google.cloud.aiplatform_v1.services.model_service.transports import ModelServiceGrpcTransport
from google.cloud.aiplatform_v1.services.pipeline_service.transports import PipelineServiceGrpcTransport
from google.cloud.aiplatform_v1.services.prediction_service.transports import PredictionServiceGrpcTransport
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport
from google.protobuf import json_format, struct_pb2

LOCATION = "us-central1"
REPO = pathlib.Path(__file__).resolve().parents[3]
KFP_FIXTURE = REPO / "test" / "fixtures" / "kfp" / "training-pipeline.yaml"


def sandbox(name: str) -> str:
    value = os.environ.get(f"SANDBOX_{name}")
    if not value:
        pytest.exit(f"SANDBOX_{name} is not set: run this suite through stack/sandbox.ts", returncode=2)
    return value


class Control:
    """The emulator's control API (HTTP JSON): scripts how jobs play out, shows what was called."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.load(res)

    def add_rule(self, match: dict, script: dict):
        return self.call("POST", "/rules", {"match": match, "script": script})

    def advance(self, name: str):
        return self.call("POST", "/jobs/advance", {"name": name})

    def add_predict_rule(self, match: dict, script: dict):
        return self.call("POST", "/predict-rules", {"match": match, "script": script})

    def calls(self, method: str | None = None):
        return self.call("GET", "/calls" + (f"?method={method}" if method else ""))


@pytest.fixture(scope="session")
def control() -> Control:
    return Control(sandbox("VERTEX_CONTROL_URL"))


@pytest.fixture(scope="session")
def channel():
    # Plaintext gRPC to the emulator, as the Node tests use it; TLS has tests of its own.
    ch = grpc.insecure_channel(f"{sandbox('VERTEX_HOST')}:{sandbox('VERTEX_PORT')}")
    yield ch
    ch.close()


@pytest.fixture(scope="session")
def pipelines(channel):
    return aiplatform_v1.PipelineServiceClient(transport=PipelineServiceGrpcTransport(channel=channel))


@pytest.fixture(scope="session")
def jobs(channel):
    return aiplatform_v1.JobServiceClient(transport=JobServiceGrpcTransport(channel=channel))


@pytest.fixture(scope="session")
def models(channel):
    return aiplatform_v1.ModelServiceClient(transport=ModelServiceGrpcTransport(channel=channel))


@pytest.fixture(scope="session")
def endpoints(channel):
    return aiplatform_v1.EndpointServiceClient(transport=EndpointServiceGrpcTransport(channel=channel))


@pytest.fixture(scope="session")
def predictions(channel):
    return aiplatform_v1.PredictionServiceClient(transport=PredictionServiceGrpcTransport(channel=channel))


@pytest.fixture(scope="session")
def metrics(channel):
    # Cloud Monitoring: the emulator serves it on the Vertex port.
    return monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))


@pytest.fixture
def project() -> str:
    """A project of its own per test: rules scoped to it touch no other test."""
    return f"ct-py-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def parent(project) -> str:
    return f"projects/{project}/locations/{LOCATION}"


@pytest.fixture(scope="session")
def bucket() -> str:
    return sandbox("GCS_BUCKET")


@pytest.fixture(scope="session")
def kfp_spec() -> struct_pb2.Struct:
    spec = struct_pb2.Struct()
    json_format.ParseDict(yaml.safe_load(KFP_FIXTURE.read_text()), spec)
    return spec


def wait_for_state(get, states, timeout=15.0):
    """Polls get() until the resource's state (enum name) is one of states."""
    deadline = time.monotonic() + timeout
    while True:
        resource = get()
        if resource.state.name in states:
            return resource
        if time.monotonic() > deadline:
            raise AssertionError(f"still {resource.state.name} after {timeout}s, waiting for {states}")
        time.sleep(0.1)


def upload_model(models, parent: str, display_name: str = "churn-model", **kwargs) -> aiplatform_v1.UploadModelResponse:
    model = {"display_name": display_name, "container_spec": {"image_uri": "us-docker.pkg.dev/p/r/server:1"}, **kwargs.pop("model", {})}
    op = models.upload_model(request={"parent": parent, "model": model, **kwargs})
    return op.result(timeout=30)
