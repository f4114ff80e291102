"""Evaluation: the candidate next to the current champion on the same held-out data.

Quality on each test set and by segment, fairness across age bands, single-row latency, and ROC and
calibration plots, as metadata a person can read in the Dagster UI and as MLflow run artifacts (the plots
and the full report as JSON) and metrics attached to the candidate's logged model. A blocking check refuses
to let a model below the quality floor reach the registry; the MLflow run then ends FAILED, as the step does.
"""

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg

from mlops_assets.datasets.assets import load_current_dataset
from mlops_assets.metadata import OWNERS, png_markdown
from mlops_assets.training.assets import dataset_name, load_candidate, trained_model
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.storage import LakeResource

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SEGMENT_COLUMNS = ("plan", "region")
EVALUATION_ARTIFACTS = "evaluation"
"""The run's artifact folder for ``roc.png``, ``calibration.png`` and ``report.json``."""


class EvaluationConfig(dg.Config):
    """``min_oot_auc`` is the absolute floor a model must reach on the out-of-time test."""

    min_oot_auc: float = 0.70
    threshold: float = 0.5


def _scores(model_bytes: bytes, frame: "pd.DataFrame") -> "np.ndarray":
    from mlops_assets.core import domain as d
    from mlops_assets.training.model_artifact import OnnxScorer

    return OnnxScorer(model_bytes).predict_proba(d.encode(frame))


def _compare(models: dict[str, bytes], dataset: "pd.DataFrame", threshold: float) -> tuple[dict, dict]:
    """Each model's quality per split, fairness, latency and segments, and its out-of-time ROC inputs."""
    from mlops_assets.core import domain as d
    from mlops_assets.datasets.dataset_split import SPLIT
    from mlops_assets.evaluation.quality_metrics import by_segment, fairness, latency_ms, quality
    from mlops_assets.training.model_artifact import OnnxScorer

    report: dict[str, dict] = {}
    curves = {}
    oot = dataset[dataset[SPLIT] == "oot_test"].copy()
    for name, model_bytes in models.items():
        per_split = {}
        for split in ("validation", "oot_test"):
            part = dataset[dataset[SPLIT] == split]
            per_split[split] = quality(part[d.LABEL].to_numpy(), _scores(model_bytes, part), threshold)
        oot["score"] = _scores(model_bytes, oot)
        curves[name] = (oot[d.LABEL].to_numpy(), oot["score"].to_numpy())
        scorer = OnnxScorer(model_bytes)
        report[name] = {
            **per_split,
            "fairness": fairness(oot, d.SEGMENT, d.LABEL, "score", threshold),
            "latency": latency_ms(scorer.predict_proba, d.encode(oot.head(200))),
            "segments": {c: by_segment(oot, c, d.LABEL, "score").to_dict("records") for c in SEGMENT_COLUMNS},
        }
    return report, curves


def _by_dataset(summary: dict[str, float]) -> dict[str | None, dict[str, float]]:
    """The summary metrics grouped by the split they were measured on (latency: on none in particular)."""
    groups: dict[str | None, dict[str, float]] = {}
    for key, value in summary.items():
        split = "validation" if key.startswith("validation_") else None if key.startswith("latency") else "oot_test"
        groups.setdefault(split, {})[key] = value
    return groups


@dg.asset(
    group_name="evaluation",
    kinds={"onnx", "mlflow"},
    owners=OWNERS,
    deps=[trained_model],
    code_version="2",
    check_specs=[
        dg.AssetCheckSpec(
            "quality_floor",
            asset="model_evaluation",
            blocking=True,
            description="Out-of-time ROC AUC at or above `min_oot_auc`.",
        ),
    ],
)
def model_evaluation(
    context: dg.AssetExecutionContext,
    config: EvaluationConfig,
    lake: LakeResource,
    mlflow: MlflowResource,
    registry: ModelRegistryResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Candidate vs champion: quality per test set, per segment, fairness, latency, plots."""
    import numpy as np
    import pandas as pd

    from mlops_assets.core.plots import calibration_png, roc_png

    candidate_bytes, record = load_candidate(lake)
    dataset, manifest = load_current_dataset(lake)
    with mlflow.tracked_run(context.run, run_name=f"evaluate-{record['sha256'][:12]}") as run:
        if run.run_id != record["mlflow_run_id"] and record.get("model_id"):
            mlflow.log_model_input(run.run_id, record["model_id"])  # a model trained by an earlier Dagster run
        models = {"candidate": candidate_bytes}
        champion = registry.version_by_alias("champion")
        if champion is not None:
            models[f"champion (v{champion.version})"] = registry.download(champion)
        report, curves = _compare(models, dataset, config.threshold)
        cand = report["candidate"]
        flat = {
            "oot_roc_auc": cand["oot_test"]["roc_auc"],
            "oot_log_loss": cand["oot_test"]["log_loss"],
            "validation_roc_auc": cand["validation"]["roc_auc"],
            "demographic_parity_difference": cand["fairness"]["demographic_parity_difference"],
            "equal_opportunity_difference": cand["fairness"]["equal_opportunity_difference"],
            **cand["latency"],
        }
        evaluation = {
            "model_sha256": record["sha256"],
            "report": report,
            "summary": flat,
            "champion_version": champion.version if champion else None,
        }
        lake.write_json(evaluation, "evaluations", f"{record['sha256']}.json")
        for split, values in _by_dataset(flat).items():
            mlflow.log(
                run.run_id,
                metrics={f"eval_{k}": v for k, v in values.items() if np.isfinite(v)},
                model_id=record.get("model_id"),
                dataset=(dataset_name(manifest, split), manifest["version"]) if split else None,
            )
        artifacts = {
            "roc.png": roc_png(curves),
            "calibration.png": calibration_png(curves),
            "report.json": json.dumps(evaluation, indent=2, default=str).encode(),
        }
        for filename, data in artifacts.items():
            mlflow.log_bytes(run.run_id, data, EVALUATION_ARTIFACTS, filename)
        passed = bool(flat["oot_roc_auc"] >= config.min_oot_auc)
        if not passed:  # the blocking check fails the Dagster step, so the MLflow run fails with it
            run.status = "FAILED"
            mlflow.log(run.run_id, tags={"mlops.failed_check": f"quality_floor: OOT AUC below {config.min_oot_auc}"})
        run_url = mlflow.run_url(run.run_id)

    side_by_side = pd.DataFrame(
        {
            name: {
                "validation AUC": r["validation"]["roc_auc"],
                "OOT AUC": r["oot_test"]["roc_auc"],
                "OOT log loss": r["oot_test"]["log_loss"],
                "OOT Brier": r["oot_test"]["brier"],
                "parity diff": r["fairness"]["demographic_parity_difference"],
                "equal-opportunity diff": r["fairness"]["equal_opportunity_difference"],
                "p50 ms": r["latency"]["latency_p50_ms"],
                "p99 ms": r["latency"]["latency_p99_ms"],
            }
            for name, r in report.items()
        }
    ).round(4)
    segments = pd.DataFrame(cand["segments"]["plan"] + cand["segments"]["region"])
    yield dg.MaterializeResult(
        metadata={
            "candidate_vs_champion": dg.MetadataValue.md(side_by_side.to_markdown()),
            "segments": dg.MetadataValue.md(segments.round(4).to_markdown(index=False)),
            "roc": png_markdown("ROC (out-of-time test)", artifacts["roc.png"]),
            "calibration": png_markdown("Calibration (out-of-time test)", artifacts["calibration.png"]),
            **{k: dg.MetadataValue.float(float(v)) for k, v in flat.items()},
            "model_sha256": record["sha256"],
            "mlflow_run": dg.MetadataValue.url(run_url),
        },
    )
    yield dg.AssetCheckResult(
        check_name="quality_floor",
        passed=passed,
        metadata={"oot_roc_auc": flat["oot_roc_auc"], "min_oot_auc": config.min_oot_auc},
        description=f"OOT AUC {flat['oot_roc_auc']:.4f} vs floor {config.min_oot_auc}",
    )
