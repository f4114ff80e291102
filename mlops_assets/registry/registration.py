"""What a registry version carries: its record as tags and a description of what it is and why it exists.

Pure functions of the typed records (model, evaluation, dataset manifest) and the training run's tags, so
``registered_model`` only wires them to MLflow.
"""

from __future__ import annotations

import json

from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG
from mlops_assets.datasets.manifest import DatasetManifest
from mlops_assets.deployment.triton_repository import QUEUE_DELAY_US
from mlops_assets.evaluation.report import EvaluationReport
from mlops_assets.run_tags import REASON_TAG, TRIGGER_TAG
from mlops_assets.training.model_record import ModelRecord

DEPLOYMENT_CONFIG = {
    "server": "triton",
    "backend": "python (onnxruntime, CPU); onnxruntime backend on GPU",
    "max_batch_size": 1024,
    "dynamic_batching_max_queue_delay_us": QUEUE_DELAY_US,
    "instance_groups": "1 x KIND_CPU",
}


def registry_tags(record: ModelRecord, evaluation: EvaluationReport, manifest: DatasetManifest) -> dict[str, str]:
    """Every row of the registry record as model-version tags (MLflow tags are flat strings)."""
    tags = {
        WEIGHTS_SHA256_TAG: record.sha256,
        "weights.size_bytes": str(record.size_bytes),
        "weights.format": record.format,
        "weights.quantization": record.quantization,
        "data.dataset_version": manifest.version,
        "data.dataset_sha256": manifest.sha256,
        "data.as_of": manifest.as_of,
        "data.filters": json.dumps(manifest.filters),
        "data.split_ratios": json.dumps(manifest.split_ratios),
        "data.transformations": json.dumps(manifest.transformations),
        "train.params": json.dumps(record.params),
        "train.dagster_run_id": record.dagster_run_id,
        "deploy.config": json.dumps(DEPLOYMENT_CONFIG),
        "approval.status": "pending",
    }
    tags.update({f"eval.{k}": f"{v:.6g}" for k, v in evaluation.summary.items()})
    return tags


def version_description(
    record: ModelRecord,
    evaluation: EvaluationReport,
    manifest: DatasetManifest,
    run_tags: dict[str, str],
    job_name: str,
    dagster_run_id: str,
) -> str:
    """What the version is and why it exists, for its page in the MLflow UI.

    e.g. "Churn classifier (HistGradientBoosting as ONNX, sha256 0a1b2c3d4e5f). Retrained on
    drift:champion-v1 (data drift in ...); dataset 3f2a..., 9,876 rows as of 2026-01-14; OOT ROC AUC 0.7912
    vs 0.7850 for champion v1. Dagster run 1a2b3c4d (job retrain)."
    """
    champion = evaluation.champion_version
    trigger, reason = run_tags.get(TRIGGER_TAG), run_tags.get(REASON_TAG)
    verb = "Retrained" if champion else "Trained"
    why = f"{verb} on {trigger}" + (f" ({reason})" if reason else "") if trigger else f"{verb} on request"
    auc = f"OOT ROC AUC {evaluation.candidate_oot_roc_auc:.4f}"
    incumbent = evaluation.champion_oot_roc_auc(champion) if champion else None
    if incumbent is not None:
        auc += f" vs {incumbent:.4f} for champion v{champion}"
    return (
        f"Churn classifier (HistGradientBoosting as {record.format.upper()}, sha256 {record.sha256[:12]}). "
        f"{why}; dataset {manifest.version}, {manifest.rows:,} rows as of {manifest.as_of}; {auc}. "
        f"Dagster run {dagster_run_id[:8]} (job {job_name})."
    )
