"""Training: a seeded HistGradientBoosting model, exported to ONNX and logged to MLflow as an ONNX model."""

import datetime as dt

import dagster as dg
from pydantic import Field

from mlops_assets.datasets.assets import load_current_dataset, training_dataset
from mlops_assets.metadata import OWNERS
from mlops_assets.training.model_artifact import Hyperparameters
from resources.mlflow_tracking import MlflowResource
from resources.storage import LakeResource
from resources.tuning import TuningResource

MODEL_FILE = "model.onnx"
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


def load_candidate(lake: LakeResource) -> tuple[bytes, dict]:
    """The newest trained model's bytes (hash-verified) and its record."""
    from mlops_assets.training.model_artifact import sha256_bytes

    record = lake.read_json("models", "candidate.json")
    data = lake.path("models", record["sha256"], MODEL_FILE).read_bytes()
    if sha256_bytes(data) != record["sha256"]:
        raise dg.Failure(f"model artifact {record['sha256']} fails its sha256 check: refusing to use it")
    return data, record


SPLIT_CONTEXTS = {"train": "training", "validation": "validation", "oot_test": "test"}
"""The dataset's splits and the MLflow input context each is logged under."""


def dataset_name(manifest: dict, split: str) -> str:
    """One split's MLflow dataset name: the feature service it was joined from, and the split."""
    return f"{manifest['feature_service']}.{split}"


def dataset_source(manifest: dict) -> dict[str, str]:
    """Where the dataset came from, as MLflow records it: the Feast feature service, point in time."""
    return {
        "feature_service": manifest["feature_service"],
        "as_of": manifest["as_of"],
        "dataset_version": manifest["version"],
        "dataset_sha256": manifest["sha256"],
    }


@dg.asset(
    group_name="training",
    kinds={"scikitlearn", "onnx", "mlflow"},
    owners=OWNERS,
    deps=[training_dataset],
    code_version="2",
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(days=7)),
)
def trained_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    lake: LakeResource,
    mlflow: MlflowResource,
    tuning: TuningResource,
) -> dg.MaterializeResult:
    """The churn classifier as an ONNX artifact (no pickle), with its MLflow run and logged model.

    The run records params, seed, the train/validation/test sets as dataset inputs (digest: the dataset
    version), package versions, hardware, and metrics on every split; the model is an MLflow ONNX-flavour
    logged model with signature and input example; the artifact records sha256, size, format and
    quantization. The run ends FINISHED, or FAILED/KILLED with the step.
    """
    import numpy as np

    from mlops_assets.core import domain as d
    from mlops_assets.datasets.dataset_split import SPLIT
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

    dataset, manifest = load_current_dataset(lake)
    params = config.hyperparameters()
    splits = {s: part.drop(columns=SPLIT) for s, part in dataset.groupby(SPLIT)}
    del dataset  # the splits are the table from here on: one copy of a large dataset, not two
    train_rows = splits["train"]
    with mlflow.tracked_run(context.run, run_name=f"train-{manifest['version']}") as run:
        run_id = run.run_id
        mlflow.log_datasets(
            run_id,
            [(dataset_name(manifest, s), SPLIT_CONTEXTS.get(s, s), part) for s, part in splits.items()],
            digest=manifest["version"],
            source=dataset_source(manifest),
        )
        study: dict = {}
        if config.tuning_trials > 0:
            params, study = _tune(context, config, splits, tuning, mlflow, run_id)
        features = {s: d.encode(part) for s, part in splits.items()}
        model = train(features["train"], train_rows[d.LABEL].to_numpy(), params)
        onnx_bytes = to_onnx_bytes(model)
        digest = sha256_bytes(onnx_bytes)
        scorer = OnnxScorer(onnx_bytes)
        by_split = {
            s: quality(part[d.LABEL].to_numpy(), scorer.predict_proba(features[s])) for s, part in splits.items()
        }
        metrics = {f"{s}_{name}": value for s, values in by_split.items() for name, value in values.items()}
        lake.write_bytes(onnx_bytes, "models", digest, MODEL_FILE)
        mlflow.log(
            run_id,
            params={**params.__dict__, "dataset_version": manifest["version"], "features": ",".join(d.MODEL_FEATURES)},
            tags={
                "dataset.version": manifest["version"],
                "dataset.sha256": manifest["sha256"],
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
            metadata={**model_metadata(manifest["feature_service"]), "weights_sha256": digest},
            params={**params.__dict__, "dataset_version": manifest["version"]},
        )
        for s, values in by_split.items():
            mlflow.log(
                run_id,
                metrics={f"{s}_{k}": v for k, v in values.items() if np.isfinite(v)},
                model_id=logged.model_id,
                dataset=(dataset_name(manifest, s), manifest["version"]),
            )
        record = {
            "sha256": digest,
            "size_bytes": len(onnx_bytes),
            "format": ARTIFACT_FORMAT,
            "quantization": "none (float32)",
            "dataset_version": manifest["version"],
            "dataset_sha256": manifest["sha256"],
            "params": params.__dict__,
            "metrics": metrics,
            "tuning": study,
            "mlflow_run_id": run_id,
            "model_id": logged.model_id,
            "model_uri": logged.uri,
            "artifact_uri": logged.artifact_location,
            "dagster_run_id": context.run.run_id,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        lake.write_json(record, "models", digest, "record.json")
        lake.write_json(record, "models", "candidate.json")
        run_url = mlflow.run_url(run_id)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(digest[:16]),
        metadata={
            "sha256": digest,
            "size_bytes": dg.MetadataValue.int(len(onnx_bytes)),
            "format": ARTIFACT_FORMAT,
            "quantization": record["quantization"],
            "dataset_version": manifest["version"],
            "seed": params.seed,
            "params": dg.MetadataValue.json(params.__dict__),
            "tuning": dg.MetadataValue.json(study or {"trials": 0}),
            "mlflow_run": dg.MetadataValue.url(run_url),
            "mlflow_model_uri": logged.uri,
            **{k: dg.MetadataValue.float(v) for k, v in metrics.items() if k.endswith(("roc_auc", "log_loss"))},
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
