"""Google's Python client configured the ordinary way: TLS to the emulator (its local CA trusted
through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, which conftest sets from the sandbox, or through the
transport's own ssl_channel_credentials), Application Default Credentials from a service-account
key file whose token_uri is the emulator's token endpoint, and Vertex's region host names reached
through the emulator's CONNECT proxy (grpc_proxy) - the route for clients that build the endpoint
themselves, like Airflow's Vertex hooks."""

import json
import os
import socket
import time

import grpc
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
import google.auth
import google.auth.transport.requests
from google.auth import exceptions as auth_exceptions
from google.cloud import aiplatform_v1
from google.cloud.aiplatform_v1.services.model_service.transports import ModelServiceGrpcTransport
from google.oauth2 import credentials as oauth2_credentials
from google.oauth2 import service_account

from conftest import sandbox, upload_model

SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    """A service-account key file as IAM makes them, but pointing token_uri at the emulator."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    path = tmp_path_factory.mktemp("sa") / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "ct-py-tls",
                "private_key_id": "emulator-key-1",
                "private_key": pem,
                "client_email": "trainer@ct-py-tls.iam.gserviceaccount.com",
                "client_id": "100000000000000000001",
                "token_uri": sandbox("VERTEX_TOKEN_URI"),
            }
        )
    )
    return str(path)


@pytest.fixture
def adc(key_file, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", key_file)


def tls_endpoint() -> str:
    return f"127.0.0.1:{sandbox('VERTEX_TLS_PORT')}"


def auth_of_calls(control, method: str, parent: str):
    return {c["auth"] for c in control.calls(method) if (c["request"].get("parent") or c["request"].get("name", "")).startswith(parent)}


def test_adc_from_a_key_file_over_tls(adc, control, parent):
    creds, project = google.auth.default()
    assert isinstance(creds, service_account.Credentials) and creds.project_id == "ct-py-tls"
    client = aiplatform_v1.ModelServiceClient(client_options=ClientOptions(api_endpoint=tls_endpoint()))
    result = upload_model(client, parent)
    assert client.get_model(name=result.model).version_id == "1"
    # GAPIC clients sign their own JWT with the key (always_use_jwt_access): no token request needed.
    assert auth_of_calls(control, "UploadModel", parent) == {"self-signed-jwt"}


def test_token_endpoint_grants_a_token_the_emulator_recognises(key_file, control, parent):
    creds = service_account.Credentials.from_service_account_file(key_file, scopes=["https://www.googleapis.com/auth/cloud-platform"])
    creds.refresh(google.auth.transport.requests.Request())  # the JWT-bearer grant, to token_uri
    assert creds.token.startswith("ya29.vertex-emulator.") and creds.valid
    client = aiplatform_v1.ModelServiceClient(credentials=oauth2_credentials.Credentials(creds.token), client_options=ClientOptions(api_endpoint=tls_endpoint()))
    with pytest.raises(exceptions.NotFound):
        client.get_model(name=f"{parent}/models/1")
    assert auth_of_calls(control, "GetModel", parent) == {"emulator-token"}

    # OAuth2 errors as RFC 6749 §5 words them.
    bad = requests.post(sandbox("VERTEX_TOKEN_URI"), data={"grant_type": "password", "username": "u"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"] == "unsupported_grant_type"
    garbled = requests.post(sandbox("VERTEX_TOKEN_URI"), data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "not-a-jwt"}, timeout=5)
    assert garbled.status_code == 400 and garbled.json()["error"] == "invalid_grant"


def test_the_certificate_is_verified(adc, parent):
    # The transport's own CA option: the local CA works, the system's CAs do not know it.
    def client_trusting(ca_file):
        with open(ca_file, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        return aiplatform_v1.ModelServiceClient(transport=ModelServiceGrpcTransport(host=tls_endpoint(), ssl_channel_credentials=creds))

    with pytest.raises(exceptions.NotFound):
        client_trusting(sandbox("VERTEX_CA")).get_model(name=f"{parent}/models/1")
    with pytest.raises(exceptions.ServiceUnavailable):
        client_trusting(SYSTEM_CAS).get_model(name=f"{parent}/models/1", timeout=10)


def test_region_host_names_through_the_connect_proxy(adc, monkeypatch, control, parent):
    monkeypatch.setenv("grpc_proxy", sandbox("VERTEX_CONTROL_URL"))
    # What Airflow's hooks build: "{region}-aiplatform.googleapis.com:443".
    client = aiplatform_v1.ModelServiceClient(client_options=ClientOptions(api_endpoint="us-central1-aiplatform.googleapis.com:443"))
    result = upload_model(client, parent)
    assert client.get_model(name=f"{result.model}@default").version_id == "1"

    # Anything else is refused by the proxy, at once.
    other = aiplatform_v1.ModelServiceClient(client_options=ClientOptions(api_endpoint="example.com:443"))
    started = time.monotonic()
    with pytest.raises(exceptions.ServiceUnavailable):
        other.get_model(name=f"{parent}/models/1", timeout=10)
    assert time.monotonic() - started < 5


def test_nothing_leaves_the_machine():
    if not os.environ.get("SANDBOX_NETNS"):
        pytest.skip("not in a network namespace (run through sandbox.ts --netns)")
    started = time.monotonic()
    # The GCE metadata server, and any other address off loopback: unreachable, at once.
    for address in [("169.254.169.254", 80), ("8.8.8.8", 443)]:
        with pytest.raises(OSError):
            socket.create_connection(address, timeout=5)
    assert time.monotonic() - started < 1
    # No name resolution either: a client aimed at the real endpoint fails instead of leaving.
    with pytest.raises(OSError):
        socket.getaddrinfo("aiplatform.googleapis.com", 443)


def test_adc_without_credentials_fails_fast_instead_of_probing(monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("HOME", os.environ.get("SANDBOX_TMP", "/nonexistent"))  # no gcloud ADC file
    monkeypatch.setenv("CLOUDSDK_CONFIG", os.path.join(os.environ.get("SANDBOX_TMP", "/nonexistent"), "gcloud"))
    started = time.monotonic()
    with pytest.raises(auth_exceptions.DefaultCredentialsError):
        google.auth.default()
    assert time.monotonic() - started < 2
