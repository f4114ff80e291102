"""One training run's work, apart from Dagster: fit on the train split, export to ONNX, log it all to MLflow.

``trained_model`` wires this into the asset (its MLflow run, config and tuning); the functions here take the
dataset's manifest and frames and return the ``ModelRecord``, so they run the same from a test or the CLI.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from mlops_assets.training.model_record import ModelRecord, write_model

if TYPE_CHECKING:
    import pandas as pd

    from mlops_assets.datasets.manifest import DatasetManifest
    from mlops_assets.training.model_artifact import Hyperparameters
    from resources.mlflow_tracking import MlflowResource
    from resources.storage import LakeResource

SPLIT_CONTEXTS = {"train": "training", "validation": "validation", "oot_test": "test"}
"""The dataset's splits and the MLflow input context each is logged under."""
QUANTIZATION = "none (float32)"


def split_frames(dataset: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The dataset's rows per split, without the split column."""
    from mlops_assets.datasets.dataset_split import SPLIT

    return {str(s): part.drop(columns=SPLIT) for s, part in dataset.groupby(SPLIT)}


def log_dataset_inputs(
    mlflow: MlflowResource, run_id: str, manifest: DatasetManifest, splits: dict[str, pd.DataFrame]
) -> None:
    """Each split as an MLflow dataset input of the run (digest: the dataset version)."""
    mlflow.log_datasets(
        run_id,
        [(manifest.mlflow_name(s), SPLIT_CONTEXTS.get(s, s), part) for s, part in splits.items()],
        digest=manifest.version,
        source=manifest.mlflow_source(),
    )


def fit_and_log(
    mlflow: MlflowResource,
    lake: LakeResource,
    run_id: str,
    manifest: DatasetManifest,
    splits: dict[str, pd.DataFrame],
    params: Hyperparameters,
    study: dict,
    dagster_run_id: str,
) -> ModelRecord:
    """Fit, export to ONNX, store the artifact, log params, tags, model and per-split metrics to MLflow."""
    import numpy as np

    from mlops_assets.core import domain as d
    from mlops_assets.evaluation.quality_metrics import quality
    from mlops_assets.training.environment import hardware, package_versions
    from mlops_assets.training.model_artifact import (
        ARTIFACT_FORMAT,
        OnnxScorer,
        input_example,
        mlflow_signature,
        model_metadata,
        sha256_bytes,
        to_onnx_bytes,
        train,
    )

    features = {s: d.encode(part) for s, part in splits.items()}
    model = train(features["train"], splits["train"][d.LABEL].to_numpy(), params)
    onnx_bytes = to_onnx_bytes(model)
    digest = sha256_bytes(onnx_bytes)
    scorer = OnnxScorer(onnx_bytes)
    by_split = {s: quality(part[d.LABEL].to_numpy(), scorer.predict_proba(features[s])) for s, part in splits.items()}
    mlflow.log(
        run_id,
        params={**params.__dict__, "dataset_version": manifest.version, "features": ",".join(d.MODEL_FEATURES)},
        tags={
            "dataset.version": manifest.version,
            "dataset.sha256": manifest.sha256,
            "artifact.sha256": digest,
            "artifact.format": ARTIFACT_FORMAT,
            **{f"pkg.{k}": v for k, v in package_versions().items()},
            **{f"hw.{k}": v for k, v in hardware().items()},
        },
    )
    logged = mlflow.log_onnx_model(
        run_id,
        onnx_bytes,
        signature=mlflow_signature(),
        input_example=input_example(features["train"][:200]),
        metadata={**model_metadata(manifest.feature_service), "weights_sha256": digest},
        params={**params.__dict__, "dataset_version": manifest.version},
    )
    for s, values in by_split.items():
        mlflow.log(
            run_id,
            metrics={f"{s}_{k}": v for k, v in values.items() if np.isfinite(v)},
            model_id=logged.model_id,
            dataset=(manifest.mlflow_name(s), manifest.version),
        )
    record = ModelRecord(
        sha256=digest,
        size_bytes=len(onnx_bytes),
        format=ARTIFACT_FORMAT,
        quantization=QUANTIZATION,
        dataset_version=manifest.version,
        dataset_sha256=manifest.sha256,
        params=params.__dict__,
        metrics={f"{s}_{name}": value for s, values in by_split.items() for name, value in values.items()},
        tuning=study,
        mlflow_run_id=run_id,
        model_id=logged.model_id,
        model_uri=logged.uri,
        artifact_uri=logged.artifact_location,
        dagster_run_id=dagster_run_id,
        trained_at=dt.datetime.now(dt.UTC).isoformat(),
    )
    write_model(lake, onnx_bytes, record)
    return record
