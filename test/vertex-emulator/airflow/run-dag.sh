#!/usr/bin/env bash
# `airflow dags test` of dags/vertex_provider_example.py against the emulator, configured only the
# way a developer would configure a real deployment: a google_cloud_default connection with a
# service-account key file (token_uri: the emulator's token endpoint), grpc_proxy and the local
# CA. Runs under stack/sandbox.ts, which provides the emulator (SANDBOX_* variables) and
# the no-metadata-server variables. Prints the model the DAG registered as "registered: NAME".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${AIRFLOW_VENV:-$root/.tools/airflow-venv}"
logical_date="${1:-2026-11-21}"

export AIRFLOW_HOME="$SANDBOX_TMP/airflow"
mkdir -p "$AIRFLOW_HOME"
key="$AIRFLOW_HOME/service-account.json"
# A key file as IAM makes them (a fresh RSA key), with token_uri pointing at the emulator.
"$venv/bin/python" - "$key" "$SANDBOX_VERTEX_TOKEN_URI" "$SANDBOX_PROJECT" <<'PY'
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
path, token_uri, project = sys.argv[1:]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
json.dump({"type": "service_account", "project_id": project, "private_key_id": "emulator-1", "private_key": pem,
           "client_email": f"airflow@{project}.iam.gserviceaccount.com", "client_id": "100000000000000000002",
           "token_uri": token_uri}, open(path, "w"))
PY

export AIRFLOW__CORE__DAGS_FOLDER="$here/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT="{\"conn_type\": \"google_cloud_platform\", \"extra\": {\"key_path\": \"$key\", \"project\": \"$SANDBOX_PROJECT\"}}"
# The hooks build "{region}-aiplatform.googleapis.com:443"; gRPC tunnels it through the emulator's
# CONNECT proxy and verifies the emulator's certificate for that name against the local CA.
export grpc_proxy="$SANDBOX_VERTEX_CONTROL_URL"
export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH="$SANDBOX_VERTEX_CA"
export CT_EXAMPLE_PROJECT="$SANDBOX_PROJECT" CT_EXAMPLE_BUCKET="$SANDBOX_GCS_BUCKET"
export CT_EXAMPLE_TEMPLATE="$root/test/fixtures/kfp/training-pipeline.yaml"
export PYTHONDONTWRITEBYTECODE=1

"$venv/bin/airflow" db migrate >/dev/null
"$venv/bin/airflow" dags test vertex_provider_example "$logical_date"

# What the emulator saw, and how each call authenticated, for the test to check.
"$venv/bin/python" - "$SANDBOX_VERTEX_CONTROL_URL" <<'PY'
import json, sys, urllib.request
calls = json.load(urllib.request.urlopen(sys.argv[1] + "/calls"))
print("emulator calls:", json.dumps(sorted({f"{c['method']} {c.get('auth')} {c['codeName']}" for c in calls})))
PY
