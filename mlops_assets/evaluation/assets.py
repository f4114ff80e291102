"""Evaluation: the candidate next to the current champion on the same held-out data.

Quality on each test set and by segment, fairness across age bands, single-row latency, and ROC and
calibration plots, as metadata a person can read in the Dagster UI and as MLflow run artifacts (the plots
and the full report as JSON) and metrics attached to the candidate's logged model. A blocking check refuses
to let a model below the quality floor reach the registry; the MLflow run then ends FAILED, as the step does.
"""

from collections.abc import Iterator

import dagster as dg

from mlops_assets.core.artifacts import ArtifactIntegrityError
from mlops_assets.datasets.manifest import read_dataset, read_manifest
from mlops_assets.evaluation.report import EvaluationReport
from mlops_assets.metadata import png_markdown
from mlops_assets.training.model_record import ModelRecord, read_model_bytes
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.record_io_manager import RECORD_IO_MANAGER
from resources.storage import LakeResource


class EvaluationConfig(dg.Config):
    """``min_oot_auc`` is the absolute floor a model must reach on the out-of-time test."""

    min_oot_auc: float = 0.70
    threshold: float = 0.5


@dg.asset(
    kinds={"onnx", "mlflow"},
    code_version="2",
    io_manager_key=RECORD_IO_MANAGER,
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
    trained_model: ModelRecord,
    lake: LakeResource,
    mlflow: MlflowResource,
    registry: ModelRegistryResource,
) -> Iterator[dg.Output[EvaluationReport] | dg.AssetCheckResult]:
    """Candidate vs champion: quality per test set, per segment, fairness, latency, plots."""
    from mlops_assets.evaluation.comparison import evaluate, log_evaluation, segments_table, side_by_side

    record = trained_model
    try:
        candidate = read_model_bytes(lake, record)
    except ArtifactIntegrityError as exc:
        raise dg.Failure(f"{exc}: refusing to evaluate it") from exc
    manifest = read_manifest(lake, record.dataset_version)
    with mlflow.tracked_run(context.run, run_name=f"evaluate-{record.sha256[:12]}") as run:
        if run.run_id != record.mlflow_run_id and record.model_id:
            mlflow.log_model_input(run.run_id, record.model_id)  # a model trained by an earlier Dagster run
        champion = registry.version_by_alias("champion")
        incumbent = (str(champion.version), registry.download(champion)) if champion is not None else None
        report, curves = evaluate(record.sha256, candidate, incumbent, read_dataset(lake, manifest), config.threshold)
        artifacts = log_evaluation(mlflow, run.run_id, report, manifest, record.model_id, curves)
        passed = bool(report.candidate_oot_roc_auc >= config.min_oot_auc)
        if not passed:  # the blocking check fails the Dagster step, so the MLflow run fails with it
            run.status = "FAILED"
            mlflow.log(run.run_id, tags={"mlops.failed_check": f"quality_floor: OOT AUC below {config.min_oot_auc}"})
        run_url = mlflow.run_url(run.run_id)
    yield dg.Output(
        report,
        metadata={
            "candidate_vs_champion": dg.MetadataValue.md(side_by_side(report).to_markdown()),
            "segments": dg.MetadataValue.md(segments_table(report).to_markdown(index=False)),
            "roc": png_markdown("ROC (out-of-time test)", artifacts["roc.png"]),
            "calibration": png_markdown("Calibration (out-of-time test)", artifacts["calibration.png"]),
            **{k: dg.MetadataValue.float(float(v)) for k, v in report.summary.items()},
            "model_sha256": record.sha256,
            "mlflow_run": dg.MetadataValue.url(run_url),
        },
    )
    auc = report.candidate_oot_roc_auc
    yield dg.AssetCheckResult(
        check_name="quality_floor",
        passed=passed,
        metadata={"oot_roc_auc": auc, "min_oot_auc": config.min_oot_auc},
        description=f"OOT AUC {auc:.4f} vs floor {config.min_oot_auc}",
    )
