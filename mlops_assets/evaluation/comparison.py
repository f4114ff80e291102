"""Candidate against champion on the same held-out data, apart from Dagster: metrics, tables, MLflow records.

Each model gets one ONNX session for all its scoring (validation, out-of-time test, latency), not one per
call; ``model_evaluation`` wires these functions into the asset.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mlops_assets.evaluation.report import Comparison, EvaluationReport, ModelMetrics

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops_assets.datasets.manifest import DatasetManifest
    from resources.mlflow_tracking import MlflowResource

SEGMENT_COLUMNS = ("plan", "region")
EVALUATION_ARTIFACTS = "evaluation"
"""The run's artifact folder for ``roc.png``, ``calibration.png`` and ``report.json``."""
Curve = tuple["np.ndarray", "np.ndarray"]


def measure(model_bytes: bytes, dataset: pd.DataFrame, threshold: float) -> tuple[ModelMetrics, Curve]:
    """One model's quality per split, fairness, latency and segments, and its out-of-time ROC inputs."""
    from mlops_assets.core import domain as d
    from mlops_assets.datasets.dataset_split import SPLIT
    from mlops_assets.evaluation.quality_metrics import by_segment, fairness, latency_ms, quality
    from mlops_assets.training.model_artifact import OnnxScorer

    scorer = OnnxScorer(model_bytes)
    per_split = {}
    for split in ("validation", "oot_test"):
        part = dataset[dataset[SPLIT] == split]
        per_split[split] = quality(part[d.LABEL].to_numpy(), scorer.predict_proba(d.encode(part)), threshold)
    oot = dataset[dataset[SPLIT] == "oot_test"].copy()
    oot["score"] = scorer.predict_proba(d.encode(oot))
    metrics = ModelMetrics(
        **per_split,
        fairness=fairness(oot, d.SEGMENT, d.LABEL, "score", threshold),
        latency=latency_ms(scorer.predict_proba, d.encode(oot.head(200))),
        segments={c: by_segment(oot, c, d.LABEL, "score").to_dict("records") for c in SEGMENT_COLUMNS},
    )
    return metrics, (oot[d.LABEL].to_numpy(), oot["score"].to_numpy())


def summary(candidate: ModelMetrics) -> dict[str, float]:
    """The candidate's headline figures (registry tags, MLflow metrics, Dagster metadata)."""
    return {
        "oot_roc_auc": candidate.oot_test.roc_auc,
        "oot_log_loss": candidate.oot_test.log_loss,
        "validation_roc_auc": candidate.validation.roc_auc,
        "demographic_parity_difference": candidate.fairness.demographic_parity_difference,
        "equal_opportunity_difference": candidate.fairness.equal_opportunity_difference,
        **candidate.latency.model_dump(),
    }


def evaluate(
    model_sha256: str,
    candidate: bytes,
    champion: tuple[str, bytes] | None,
    dataset: pd.DataFrame,
    threshold: float,
) -> tuple[EvaluationReport, dict[str, Curve]]:
    """The report on ``candidate`` (and ``champion``: its version and bytes, if any) and their ROC inputs."""
    candidate_metrics, candidate_curve = measure(candidate, dataset, threshold)
    champion_metrics, curves = None, {"candidate": candidate_curve}
    if champion is not None:
        champion_metrics, curves[f"champion (v{champion[0]})"] = measure(champion[1], dataset, threshold)
    report = EvaluationReport(
        model_sha256=model_sha256,
        report=Comparison(candidate=candidate_metrics, champion=champion_metrics),
        summary=summary(candidate_metrics),
        champion_version=champion[0] if champion else None,
    )
    return report, curves


def by_dataset(figures: dict[str, float]) -> dict[str | None, dict[str, float]]:
    """The summary metrics grouped by the split they were measured on (latency: on none in particular)."""
    groups: dict[str | None, dict[str, float]] = {}
    for key, value in figures.items():
        split = "validation" if key.startswith("validation_") else None if key.startswith("latency") else "oot_test"
        groups.setdefault(split, {})[key] = value
    return groups


def side_by_side(report: EvaluationReport) -> pd.DataFrame:
    """Candidate and champion as the columns of one table a person reads in the Dagster UI."""
    import pandas as pd

    return pd.DataFrame(
        {
            name: {
                "validation AUC": m.validation.roc_auc,
                "OOT AUC": m.oot_test.roc_auc,
                "OOT log loss": m.oot_test.log_loss,
                "OOT Brier": m.oot_test.brier,
                "parity diff": m.fairness.demographic_parity_difference,
                "equal-opportunity diff": m.fairness.equal_opportunity_difference,
                "p50 ms": m.latency.latency_p50_ms,
                "p99 ms": m.latency.latency_p99_ms,
            }
            for name, m in report.labelled().items()
        }
    ).round(4)


def segments_table(report: EvaluationReport) -> pd.DataFrame:
    """The candidate's quality per plan and per region."""
    import pandas as pd

    segments = report.candidate.segments
    return pd.DataFrame([row for column in SEGMENT_COLUMNS for row in segments[column]]).round(4)


def log_evaluation(
    mlflow: MlflowResource,
    run_id: str,
    report: EvaluationReport,
    manifest: DatasetManifest,
    model_id: str | None,
    curves: dict[str, Curve],
) -> dict[str, bytes]:
    """The summary as MLflow metrics of the model (per dataset), the plots and report as run artifacts."""
    import numpy as np

    from mlops_assets.core.plots import calibration_png, roc_png

    for split, values in by_dataset(report.summary).items():
        mlflow.log(
            run_id,
            metrics={f"eval_{k}": v for k, v in values.items() if np.isfinite(v)},
            model_id=model_id,
            dataset=(manifest.mlflow_name(split), manifest.version) if split else None,
        )
    artifacts = {
        "roc.png": roc_png(curves),
        "calibration.png": calibration_png(curves),
        "report.json": json.dumps(report.model_dump(), indent=2, default=str).encode(),
    }
    for filename, data in artifacts.items():
        mlflow.log_bytes(run_id, data, EVALUATION_ARTIFACTS, filename)
    return artifacts
