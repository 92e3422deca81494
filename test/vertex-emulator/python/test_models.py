"""ModelService and google.longrunning.Operations through Google's Python client: UploadModel and its
operation (the Any-packed response and metadata the Python client unpacks by type URL), GetModel by
version and alias, ListModelVersions, MergeVersionAliases, errors."""

import re

import pytest
from google.api_core import exceptions, operation
from google.cloud import aiplatform_v1
from google.longrunning import operations_pb2

from conftest import upload_model

MODEL = re.compile(r"projects/\d{12}/locations/us-central1/models/\d{19}")


def test_upload_model_operation_and_its_typed_result(models, parent):
    op = models.upload_model(parent=parent, model={"display_name": "churn", "container_spec": {"image_uri": "img:1"}, "labels": {"team": "ct"}})
    assert isinstance(op, operation.Operation)
    raw = op.operation
    assert re.fullmatch(MODEL.pattern + r"/operations/\d{19}", raw.name)
    # Every Any names its type, as Vertex's do: Python unpacks by it (Node decodes by the method).
    assert raw.metadata.type_url == "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelOperationMetadata"
    assert isinstance(op.metadata, aiplatform_v1.UploadModelOperationMetadata)
    assert op.metadata.generic_metadata.create_time

    result = op.result(timeout=30)
    assert isinstance(result, aiplatform_v1.UploadModelResponse)
    assert MODEL.fullmatch(result.model) and result.model_version_id == "1"
    assert op.done()

    # The operation as GetOperation returns it: done, with a typed response.
    got = models.get_operation(operations_pb2.GetOperationRequest(name=raw.name))
    assert got.done
    assert got.response.type_url == "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse"
    unpacked = aiplatform_v1.UploadModelResponse.deserialize(got.response.value)
    assert unpacked.model == result.model
    models.delete_operation(operations_pb2.DeleteOperationRequest(name=raw.name))
    with pytest.raises(exceptions.NotFound):
        models.get_operation(operations_pb2.GetOperationRequest(name=raw.name))


def test_versions_aliases_and_lookups(models, parent):
    first = upload_model(models, parent, model={"labels": {"stage": "a"}})
    second = upload_model(models, parent, parent_model=first.model, model={"version_aliases": ["candidate"], "labels": {"stage": "b"}})
    assert second.model == first.model and second.model_version_id == "2"

    default = models.get_model(name=first.model)
    assert default.name == first.model and default.version_id == "1"
    assert list(default.version_aliases) == ["default"]
    assert models.get_model(name=f"{first.model}@2").version_id == "2"
    assert models.get_model(name=f"{first.model}@candidate").version_id == "2"

    versions = models.list_model_versions(name=first.model)
    assert [m.name for m in versions] == [f"{first.model}@1", f"{first.model}@2"]
    pages = list(models.list_model_versions(request={"name": first.model, "page_size": 1}).pages)
    assert [m.version_id for p in pages for m in p.models] == ["1", "2"]
    labelled = models.list_model_versions(request={"name": first.model, "filter": 'labels.stage="b"'})
    assert [m.version_id for m in labelled] == ["2"]

    # An alias lives on one version: giving "candidate" to version 1 moves it off version 2.
    merged = models.merge_version_aliases(name=f"{first.model}@1", version_aliases=["candidate", "champion"])
    assert sorted(merged.version_aliases) == ["candidate", "champion", "default"]
    assert list(models.get_model(name=f"{first.model}@2").version_aliases) == []
    removed = models.merge_version_aliases(name=f"{first.model}@1", version_aliases=["-champion"])
    assert sorted(removed.version_aliases) == ["candidate", "default"]


def test_errors(models, parent):
    with pytest.raises(exceptions.InvalidArgument, match=r"model\.container_spec\.image_uri; Message: Required field is not set"):
        models.upload_model(parent=parent, model={"display_name": "x"})
    first = upload_model(models, parent)
    with pytest.raises(exceptions.InvalidArgument, match="The default alias cannot be removed"):
        models.merge_version_aliases(name=f"{first.model}@1", version_aliases=["-default"])
    with pytest.raises(exceptions.InvalidArgument, match="explicit version id"):
        models.merge_version_aliases(name=first.model, version_aliases=["x1"])
    with pytest.raises(exceptions.NotFound):
        models.get_model(name=f"{first.model}@nope")
    with pytest.raises(exceptions.NotFound):
        models.get_model(name=f"{parent}/models/999")
    with pytest.raises(exceptions.NotFound):
        models.list_model_versions(name=f"{parent}/models/999")
    upload_model(models, parent, model_id="fixed-id")
    with pytest.raises(exceptions.AlreadyExists, match="Model fixed-id already exists"):
        upload_model(models, parent, model_id="fixed-id")
