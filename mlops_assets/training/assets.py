"""Training: a seeded HistGradientBoosting model, exported to ONNX and logged to MLflow as an ONNX model."""

import datetime as dt

import dagster as dg
from pydantic import Field

from mlops_assets.datasets.manifest import DatasetManifest, read_dataset
from mlops_assets.training.model_artifact import Hyperparameters
from mlops_assets.training.model_record import ModelRecord
from mlops_assets.training.training_run import fit_and_log, log_dataset_inputs, split_frames
from resources.mlflow_tracking import MlflowResource
from resources.record_io_manager import RECORD_IO_MANAGER
from resources.storage import LakeResource
from resources.tuning import TuningResource

TRIAL_STATUS = {"complete": "FINISHED", "pruned": "KILLED", "failed": "FAILED"}
"""How an Optuna trial's outcome shows as the status of its MLflow child run (pruned: stopped early)."""


_DEFAULTS = Hyperparameters()


class TrainingConfig(dg.Config):
    """Hyperparameters and seed; identical config + identical dataset version -> identical artifact hash.

    The hyperparameters' defaults are ``Hyperparameters``' (the one place they are set).
    """

    learning_rate: float = Field(default=_DEFAULTS.learning_rate, gt=0.0, le=1.0)
    max_iter: int = Field(default=_DEFAULTS.max_iter, ge=1)
    max_leaf_nodes: int = Field(default=_DEFAULTS.max_leaf_nodes, ge=2)
    l2_regularization: float = Field(default=_DEFAULTS.l2_regularization, ge=0.0)
    seed: int = _DEFAULTS.seed
    tuning_trials: int = 0
    """Optuna trials before the final fit (0: train with the hyperparameters above as given)."""
    tuning_timeout_s: float = 600.0
    tuning_metric: str = "roc_auc"
    """Validation metric the study optimises: ``roc_auc`` (maximised) or ``log_loss`` (minimised)."""
    tuning_parallelism: int = 1
    """Trials run at once in this step (threads; the trees release the GIL)."""
    tuning_max_rows: int = Field(default=100_000, ge=1)
    """Rows of the train and of the validation split each trial uses at most (a seeded sample beyond that);
    the final model always trains on every train row."""

    def hyperparameters(self) -> Hyperparameters:
        return Hyperparameters(
            **self.model_dump(exclude={n for n in type(self).model_fields if n.startswith("tuning_")})
        )


@dg.asset(
    kinds={"scikitlearn", "onnx", "mlflow"},
    code_version="2",
    io_manager_key=RECORD_IO_MANAGER,
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(days=7)),
)
def trained_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    training_dataset: DatasetManifest,
    lake: LakeResource,
    mlflow: MlflowResource,
    tuning: TuningResource,
) -> dg.MaterializeResult[ModelRecord]:
    """The churn classifier as an ONNX artifact (no pickle), with its MLflow run and logged model.

    The run records params, seed, the train/validation/test sets as dataset inputs (digest: the dataset
    version), package versions, hardware, and metrics on every split; the model is an MLflow ONNX-flavour
    logged model with signature and input example; the artifact records sha256, size, format and
    quantization. The run ends FINISHED, or FAILED/KILLED with the step.
    """
    manifest = training_dataset
    params = config.hyperparameters()
    splits = split_frames(read_dataset(lake, manifest))
    with mlflow.tracked_run(context.run, run_name=f"train-{manifest.version}") as run:
        log_dataset_inputs(mlflow, run.run_id, manifest, splits)
        study: dict = {}
        if config.tuning_trials > 0:
            params, study = _tune(context, config, splits, tuning, mlflow, run.run_id)
        record = fit_and_log(mlflow, lake, run.run_id, manifest, splits, params, study, context.run.run_id)
        run_url = mlflow.run_url(run.run_id)
    return dg.MaterializeResult(
        value=record,
        data_version=dg.DataVersion(record.sha256[:16]),
        metadata={
            "sha256": record.sha256,
            "size_bytes": dg.MetadataValue.int(record.size_bytes),
            "format": record.format,
            "quantization": record.quantization,
            "dataset_version": manifest.version,
            "seed": params.seed,
            "params": dg.MetadataValue.json(record.params),
            "tuning": dg.MetadataValue.json(study or {"trials": 0}),
            "mlflow_run": dg.MetadataValue.url(run_url),
            "mlflow_model_uri": record.model_uri,
            **{k: dg.MetadataValue.float(v) for k, v in record.metrics.items() if k.endswith(("roc_auc", "log_loss"))},
        },
    )


def _tune(context, config: TrainingConfig, splits: dict, tuning: TuningResource, mlflow: MlflowResource, run_id: str):  # noqa: ANN001, ANN202
    """Continue the model's Optuna study; every trial becomes an MLflow child run of this training run."""
    from mlops_assets.core import domain as d
    from mlops_assets.training.tuning import TrialOutcome, sample_rows, tune

    def log_trial(outcome: TrialOutcome) -> None:
        mlflow.child_run(
            run_id,
            f"trial-{outcome.number}",
            params={**outcome.params.__dict__, "metric": config.tuning_metric},
            metrics={
                f"validation_{config.tuning_metric}": outcome.value if outcome.value is not None else float("nan"),
                "duration_s": outcome.duration_s,
                "stages_trained": outcome.steps,
            },
            tags={"optuna.trial": str(outcome.number), "optuna.state": outcome.state},
            status=TRIAL_STATUS[outcome.state],
            duration_s=outcome.duration_s,
        )

    parts = {}
    for split in ("train", "validation"):
        rows = splits[split]
        at = sample_rows(len(rows), config.tuning_max_rows, config.seed)
        parts[split] = rows if at is None else rows.iloc[at]
    sizes = {"tuning_max_rows": config.tuning_max_rows, **{f"tuning_{s}_rows": len(p) for s, p in parts.items()}}
    mlflow.log(run_id, params=sizes)
    train_rows, validation = parts["train"], parts["validation"]
    result = tune(
        (d.encode(train_rows), train_rows[d.LABEL].to_numpy()),
        (d.encode(validation), validation[d.LABEL].to_numpy()),
        storage=tuning.storage_url(),
        study_name=tuning.study_name(config.tuning_metric),
        run_id=context.run.run_id,
        trials=config.tuning_trials,
        timeout_s=config.tuning_timeout_s,
        seed=config.seed,
        metric=config.tuning_metric,
        parallelism=config.tuning_parallelism,
        on_trial=log_trial,
    )
    context.log.info(
        f"tuning: best of {result.trials_this_run} trials ({result.pruned_this_run} pruned; "
        f"{result.trials_in_study} in the study) is trial {result.best_trial}: "
        f"validation {config.tuning_metric} {result.best_value:.4f}"
    )
    study = {
        "study": tuning.study_name(config.tuning_metric),
        "metric": config.tuning_metric,
        "trials": result.trials_this_run,
        "pruned": result.pruned_this_run,
        "trials_in_study": result.trials_in_study,
        "best_trial": result.best_trial,
        "best_validation_value": result.best_value,
        "train_rows": len(train_rows),
        "validation_rows": len(validation),
    }
    mlflow.log(run_id, tags={f"tuning.{k}": str(v) for k, v in study.items()})
    return result.best, study
