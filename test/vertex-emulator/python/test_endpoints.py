"""EndpointService, PredictionService and Cloud Monitoring's ListTimeSeries through Google's Python
clients: the operations' typed Anys (create, deploy, undeploy, delete), the traffic split's rules,
Predict spread by the split, and the health series computed from what was served."""

import re
import time

import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1, monitoring_v3
from google.protobuf import json_format, struct_pb2

from conftest import upload_model

ENDPOINT = re.compile(r"projects/\d{12}/locations/us-central1/endpoints/\d{19}")
RESOURCES = {"machine_spec": {"machine_type": "n1-standard-2"}, "min_replica_count": 1, "max_replica_count": 1}


def instance(x) -> struct_pb2.Value:
    return json_format.ParseDict({"x": x}, struct_pb2.Value())


def deploy(endpoints, endpoint: str, model: str, split=None) -> aiplatform_v1.DeployedModel:
    op = endpoints.deploy_model(
        endpoint=endpoint,
        deployed_model={"model": model, "display_name": "py", "dedicated_resources": RESOURCES},
        traffic_split=split or {},
    )
    assert op.operation.metadata.type_url == "type.googleapis.com/google.cloud.aiplatform.v1.DeployModelOperationMetadata"
    result = op.result(timeout=30)
    assert isinstance(result, aiplatform_v1.DeployModelResponse)
    return result.deployed_model


def test_endpoint_lifecycle_and_traffic_split(endpoints, models, parent):
    model = upload_model(models, parent).model
    created = endpoints.create_endpoint(parent=parent, endpoint={"display_name": "py-ep", "labels": {"team": "ct"}})
    endpoint = created.result(timeout=30)
    assert isinstance(endpoint, aiplatform_v1.Endpoint) and ENDPOINT.fullmatch(endpoint.name)
    assert endpoints.get_endpoint(name=endpoint.name).display_name == "py-ep"
    listed = list(endpoints.list_endpoints(request={"parent": parent, "filter": 'labels.team="ct"'}))
    assert [e.name for e in listed] == [endpoint.name]

    a = deploy(endpoints, endpoint.name, model, {"0": 100})
    b = deploy(endpoints, endpoint.name, f"{model}@1", {"0": 30, a.id: 70})
    assert dict(endpoints.get_endpoint(name=endpoint.name).traffic_split) == {a.id: 70, b.id: 30}
    with pytest.raises(exceptions.InvalidArgument):
        endpoints.update_endpoint(
            endpoint={"name": endpoint.name, "traffic_split": {a.id: 70}}, update_mask={"paths": ["traffic_split"]}
        )
    updated = endpoints.update_endpoint(
        endpoint={"name": endpoint.name, "traffic_split": {a.id: 50, b.id: 50}}, update_mask={"paths": ["traffic_split"]}
    )
    assert dict(updated.traffic_split) == {a.id: 50, b.id: 50}
    with pytest.raises(exceptions.FailedPrecondition):
        endpoints.undeploy_model(endpoint=endpoint.name, deployed_model_id=b.id)
    undeployed = endpoints.undeploy_model(endpoint=endpoint.name, deployed_model_id=b.id, traffic_split={a.id: 100})
    assert isinstance(undeployed.result(timeout=30), aiplatform_v1.UndeployModelResponse)
    with pytest.raises(exceptions.FailedPrecondition):
        endpoints.delete_endpoint(name=endpoint.name)
    endpoints.undeploy_model(endpoint=endpoint.name, deployed_model_id=a.id).result(timeout=30)
    assert dict(endpoints.get_endpoint(name=endpoint.name).traffic_split) == {}
    endpoints.delete_endpoint(name=endpoint.name).result(timeout=30)
    with pytest.raises(exceptions.NotFound):
        endpoints.get_endpoint(name=endpoint.name)


def test_predict_follows_the_split_and_monitoring_counts_it(endpoints, models, predictions, metrics, control, parent, project):
    model = upload_model(models, parent).model
    endpoint = endpoints.create_endpoint(parent=parent, endpoint={"display_name": "py-serving"}).result(timeout=30).name
    stable = deploy(endpoints, endpoint, model, {"0": 100})
    canary = deploy(endpoints, endpoint, model, {"0": 25, stable.id: 75})
    control.add_predict_rule({"project": project, "deployedModelId": canary.id}, {"errorRate": 0.2})
    started = time.time()
    served: dict[str, int] = {}
    failed = 0
    for i in range(20):
        try:
            res = predictions.predict(endpoint=endpoint, instances=[instance(i)])
            served[res.deployed_model_id] = served.get(res.deployed_model_id, 0) + 1
            assert res.model == model and res.model_version_id == "1"
            assert dict(res.predictions[0]) == {"x": i}  # echoed back (proto-plus turns the Struct into a map)
        except exceptions.InternalServerError:
            failed += 1
    assert served == {stable.id: 15, canary.id: 4} and failed == 1

    interval = monitoring_v3.TimeInterval(
        {"start_time": {"seconds": int(started) - 1}, "end_time": {"seconds": int(time.time()) + 1}}
    )
    endpoint_id = endpoint.rsplit("/", 1)[1]
    series = metrics.list_time_series(
        request={
            "name": f"projects/{project}",
            "filter": f'metric.type = "aiplatform.googleapis.com/prediction/online/error_count" AND resource.labels.endpoint_id = "{endpoint_id}"',
            "interval": interval,
            "aggregation": {"alignment_period": {"seconds": 3600}, "per_series_aligner": "ALIGN_SUM"},
            "view": monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        }
    )
    errors = {s.metric.labels["deployed_model_id"]: s.points[0].value.int64_value for s in series}
    assert errors == {stable.id: 0, canary.id: 1}
    with pytest.raises(exceptions.InvalidArgument):
        list(metrics.list_time_series(name=f"projects/{project}", filter='metric.type = "x" AND zone = "y"', interval=interval, view=0))
