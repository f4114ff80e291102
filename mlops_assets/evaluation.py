"""Evaluation: the candidate next to the current champion on the same held-out data.

Quality on each test set and by segment, fairness across age bands, single-row latency, and ROC and
calibration plots, all as metadata a person can read in the Dagster UI. A blocking check refuses to let a
model below the quality floor reach the registry.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg

from mlops_assets.datasets import load_current_dataset
from mlops_assets.metadata import OWNERS, png_markdown
from mlops_assets.training import load_candidate, trained_model
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.storage import LakeResource

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SEGMENT_COLUMNS = ("plan", "region")


class EvaluationConfig(dg.Config):
    """``min_oot_auc`` is the absolute floor a model must reach on the out-of-time test."""

    min_oot_auc: float = 0.70
    threshold: float = 0.5


def _scores(model_bytes: bytes, frame: "pd.DataFrame") -> "np.ndarray":
    from mlops_assets.core import domain as d
    from mlops_assets.core.model_artifact import OnnxScorer

    return OnnxScorer(model_bytes).predict_proba(d.encode(frame))


@dg.asset(
    group_name="evaluation",
    kinds={"onnx", "mlflow"},
    owners=OWNERS,
    deps=[trained_model],
    code_version="1",
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

    from mlops_assets.core import domain as d
    from mlops_assets.core.dataset_split import SPLIT
    from mlops_assets.core.model_artifact import OnnxScorer
    from mlops_assets.core.plots import calibration_png, roc_png
    from mlops_assets.core.quality_metrics import by_segment, fairness, latency_ms, quality

    candidate_bytes, record = load_candidate(lake)
    dataset, _ = load_current_dataset(lake)
    models = {"candidate": candidate_bytes}
    champion = registry.version_by_alias("champion")
    if champion is not None:
        models[f"champion (v{champion.version})"] = registry.download(champion)

    report: dict[str, dict] = {}
    curves = {}
    oot = dataset[dataset[SPLIT] == "oot_test"].copy()
    for name, model_bytes in models.items():
        per_split = {}
        for split in ("validation", "oot_test"):
            part = dataset[dataset[SPLIT] == split]
            per_split[split] = quality(part[d.LABEL].to_numpy(), _scores(model_bytes, part), config.threshold)
        oot["score"] = _scores(model_bytes, oot)
        curves[name] = (oot[d.LABEL].to_numpy(), oot["score"].to_numpy())
        scorer = OnnxScorer(model_bytes)
        report[name] = {
            **per_split,
            "fairness": fairness(oot, d.SEGMENT, d.LABEL, "score", config.threshold),
            "latency": latency_ms(scorer.predict_proba, d.encode(oot.head(200))),
            "segments": {c: by_segment(oot, c, d.LABEL, "score").to_dict("records") for c in SEGMENT_COLUMNS},
        }
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
    lake.write_json(evaluation, "evaluations", "candidate.json")
    mlflow.log(record["mlflow_run_id"], metrics={f"eval_{k}": v for k, v in flat.items() if np.isfinite(v)})

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
    passed = bool(flat["oot_roc_auc"] >= config.min_oot_auc)
    yield dg.MaterializeResult(
        metadata={
            "candidate_vs_champion": dg.MetadataValue.md(side_by_side.to_markdown()),
            "segments": dg.MetadataValue.md(segments.round(4).to_markdown(index=False)),
            "roc": png_markdown("ROC (out-of-time test)", roc_png(curves)),
            "calibration": png_markdown("Calibration (out-of-time test)", calibration_png(curves)),
            **{k: dg.MetadataValue.float(float(v)) for k, v in flat.items()},
            "model_sha256": record["sha256"],
        },
    )
    yield dg.AssetCheckResult(
        check_name="quality_floor",
        passed=passed,
        metadata={"oot_roc_auc": flat["oot_roc_auc"], "min_oot_auc": config.min_oot_auc},
        description=f"OOT AUC {flat['oot_roc_auc']:.4f} vs floor {config.min_oot_auc}",
    )
