"""The continuous-training pipeline, as a KFP v2 pipeline, and the script that compiles it.

One run trains the model of one (country, SNS) pair on one data partition:

    prepare-data  ->  train-model  ->  evaluate

The components are lightweight Python components (stdlib only inside, so the images need nothing
but ``python:3.11-slim`` plus the KFP runtime that the executor installs). The data step builds a
deterministic synthetic data set from its inputs: the real feature query is not this repo's
concern, the pipeline's interface is. What the coordinator depends on is the compiled spec's
``root.inputDefinitions`` (names, types, defaults), which is why the parameters span every KFP
parameter type.

Compiling needs no network and no GCP credentials:

    scripts/kfp/compile.sh                      # venv + hash-pinned install + compile
    python scripts/kfp/training_pipeline.py --output test/fixtures/kfp/training-pipeline.yaml
"""

# No `from __future__ import annotations`: KFP reads the component signatures' real type objects.
import argparse
import os
import pathlib
import sys
from typing import List, Optional

# Byte-identical output on every run: the compiled YAML's header comment prints dict defaults in
# the order protobuf iterates the Struct, which the default (upb) backend randomizes per process;
# the pure-Python backend keeps insertion order. Must be set before protobuf is first imported.
os.environ["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"

from kfp import compiler, dsl  # noqa: E402
from kfp.dsl import Dataset, Input, Metrics, Model, Output  # noqa: E402

PIPELINE_NAME = "ct-training-pipeline"
BASE_IMAGE = "python:3.11-slim"
SUPPORTED_SNS = ("instagram", "youtube", "tiktok")
DEFAULT_FEATURE_COLUMNS = ["followers", "posts_last_7d", "avg_engagement_rate", "account_age_days"]
DEFAULT_LABELS = {"team": "ct", "managed-by": "ct-coordinator"}

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPO_ROOT / "test" / "fixtures" / "kfp" / "training-pipeline.yaml"


@dsl.component(base_image=BASE_IMAGE)
def prepare_data(
    partition: str,
    country: str,
    sns: str,
    feature_columns: list,
    train_data: Output[Dataset],
    eval_data: Output[Dataset],
    eval_fraction: float = 0.2,
) -> int:
    """Builds the train and eval splits of one partition for one (country, SNS) pair.

    Args:
        partition: Data partition to train on, e.g. a date "2024-06-01".
        country: ISO 3166-1 alpha-2 country code, e.g. "JP".
        sns: Social network: instagram, youtube or tiktok.
        feature_columns: Names of the feature columns to extract.
        eval_fraction: Share of the rows held out for evaluation.

    Returns:
        The number of rows in the partition.
    """
    import csv
    import hashlib
    import random

    if sns not in ("instagram", "youtube", "tiktok"):
        raise ValueError(f"unsupported sns {sns!r}")
    if not feature_columns:
        raise ValueError("feature_columns is empty")

    seed = int(hashlib.sha256(f"{partition}/{country}/{sns}".encode()).hexdigest()[:8], 16)
    rng = random.Random(seed)
    weights = [rng.uniform(-1.0, 1.0) for _ in feature_columns]
    rows = []
    for _ in range(500):
        features = [rng.gauss(0.0, 1.0) for _ in feature_columns]
        label = sum(w * x for w, x in zip(weights, features)) + rng.gauss(0.0, 0.1)
        rows.append(features + [label])

    n_eval = max(1, int(len(rows) * eval_fraction))
    header = list(feature_columns) + ["label"]
    for artifact, split in ((eval_data, rows[:n_eval]), (train_data, rows[n_eval:])):
        with open(artifact.path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(split)
        artifact.metadata.update(
            {"partition": partition, "country": country, "sns": sns, "rows": len(split)}
        )
    return len(rows)


@dsl.component(base_image=BASE_IMAGE)
def train_model(
    train_data: Input[Dataset],
    learning_rate: float,
    epochs: int,
    use_gpu: bool,
    labels: dict,
    model: Output[Model],
    train_metrics: Output[Metrics],
):
    """Fits a linear model on the train split by batch gradient descent.

    Args:
        train_data: CSV with the feature columns and a "label" column.
        learning_rate: Gradient-descent step size.
        epochs: Passes over the train split.
        use_gpu: Whether the run asked for an accelerator (recorded; this model runs on CPU).
        labels: Key/value labels copied onto the model's metadata.
    """
    import csv
    import json

    with open(train_data.path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [[float(v) for v in row] for row in reader]
    features = header[:-1]
    xs = [row[:-1] for row in rows]
    ys = [row[-1] for row in rows]

    w = [0.0] * len(features)
    b = 0.0
    mse = float("nan")
    for _ in range(epochs):
        grad_w = [0.0] * len(features)
        grad_b = 0.0
        mse = 0.0
        for x, y in zip(xs, ys):
            err = sum(wi * xi for wi, xi in zip(w, x)) + b - y
            mse += err * err
            for i, xi in enumerate(x):
                grad_w[i] += err * xi
            grad_b += err
        n = len(xs)
        w = [wi - learning_rate * 2.0 * g / n for wi, g in zip(w, grad_w)]
        b -= learning_rate * 2.0 * grad_b / n
        mse /= n

    with open(model.path, "w") as f:
        json.dump({"features": features, "weights": w, "bias": b}, f)
    model.metadata.update(dict(labels))
    model.metadata.update({"framework": "linear-gd", "use_gpu": use_gpu})
    train_metrics.log_metric("train_mse", mse)
    train_metrics.log_metric("epochs", epochs)


@dsl.component(base_image=BASE_IMAGE)
def evaluate(
    model: Input[Model],
    eval_data: Input[Dataset],
    eval_metrics: Output[Metrics],
) -> float:
    """Scores the model on the eval split.

    Args:
        model: The trained linear model (JSON).
        eval_data: CSV with the same columns as the train split.

    Returns:
        The root-mean-square error on the eval split.
    """
    import csv
    import json
    import math

    with open(model.path) as f:
        params = json.load(f)
    with open(eval_data.path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [[float(v) for v in row] for row in reader]
    sq = 0.0
    for row in rows:
        pred = sum(w * x for w, x in zip(params["weights"], row[:-1])) + params["bias"]
        sq += (pred - row[-1]) ** 2
    rmse = math.sqrt(sq / len(rows))
    eval_metrics.log_metric("rmse", rmse)
    eval_metrics.log_metric("eval_rows", len(rows))
    return rmse


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="Continuous training of one per-country, per-SNS model on one data partition.",
)
def training_pipeline(
    partition: str,
    country: str = "JP",
    sns: str = "instagram",
    learning_rate: float = 0.05,
    epochs: int = 10,
    use_gpu: bool = False,
    feature_columns: list = DEFAULT_FEATURE_COLUMNS,
    labels: dict = DEFAULT_LABELS,
):
    """Prepares the data, trains and evaluates the model of one (country, SNS) pair.

    Args:
        partition: Data partition to train on, e.g. a date "2024-06-01". Required.
        country: ISO 3166-1 alpha-2 country code.
        sns: Social network: instagram, youtube or tiktok.
        learning_rate: Gradient-descent step size.
        epochs: Passes over the train split.
        use_gpu: Whether the run asks for an accelerator.
        feature_columns: Names of the feature columns.
        labels: Key/value labels put on the trained model.
    """
    data = prepare_data(
        partition=partition, country=country, sns=sns, feature_columns=feature_columns
    )
    trained = train_model(
        train_data=data.outputs["train_data"],
        learning_rate=learning_rate,
        epochs=epochs,
        use_gpu=use_gpu,
        labels=labels,
    )
    trained.set_cpu_limit("4").set_memory_limit("8G")
    evaluate(model=trained.outputs["model"], eval_data=data.outputs["eval_data"])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=f"Compile the {PIPELINE_NAME} KFP v2 pipeline.")
    parser.add_argument(
        "--output",
        "-o",
        type=pathlib.Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the pipeline spec YAML (default: {DEFAULT_OUTPUT.relative_to(REPO_ROOT)})",
    )
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline_func=training_pipeline, package_path=str(args.output))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
