"""The one ``Definitions`` object: every lifecycle asset, check, sensor and the profile's resources.

``workspace.yaml`` points here. Nothing on this import path imports Feast, MLflow or scikit-learn at module
level, so the code location loads in well under two seconds (``bench/`` measures it).
"""

from __future__ import annotations

import dagster as dg

from mlops_assets import (
    datasets,
    deployment,
    evaluation,
    features,
    ingestion,
    monitoring,
    registry,
    training,
    validation,
)
from resources.profiles import build_resources
from sensors.drift import RETRAIN_JOB, drift_sensor, performance_sensor

LIFECYCLE_MODULES = (ingestion, validation, features, datasets, training, evaluation, registry, deployment, monitoring)
RETRAIN_SELECTION = dg.AssetSelection.assets(
    "customer_feature_table",
    "feature_store_registry",
    "online_features",
    "training_dataset",
    "trained_model",
    "model_evaluation",
    "registered_model",
    "triton_model_repository",
    "canary_deployment",
)


def build_definitions(profile: str | None = None) -> dg.Definitions:
    """Assemble the platform for ``profile`` (``embedded`` by default, or ``production``)."""
    assets = dg.load_assets_from_modules(list(LIFECYCLE_MODULES))
    return dg.Definitions(
        assets=assets,
        resources=build_resources(profile),
        jobs=[
            dg.define_asset_job(
                RETRAIN_JOB,
                selection=RETRAIN_SELECTION,
                description="Rebuild features and dataset, retrain, evaluate, register a challenger.",
                # deploy/dagster.yaml limits runs with this tag to one at a time: two drift events
                # queue their retrains instead of racing to register challengers
                tags={"mlops/model": "churn"},
                # a sensor's retrain continues the model's Optuna study with a small budget
                config={"ops": {"trained_model": {"config": {"tuning_trials": 6, "tuning_timeout_s": 120.0}}}},
            ),
        ],
        sensors=[drift_sensor, performance_sensor],
        executor=_executor(),
    )


def _executor() -> dg.ExecutorDefinition | None:
    """``MLOPS_EXECUTOR=k8s``: every step in its own Kubernetes pod (dagster-k8s); else Dagster's default.

    Imported only when asked for, so dagster-k8s stays off the Definitions load path of the default setup.
    The image, namespace and service account come from the K8sRunLauncher the Helm chart configures.
    """
    import os

    if os.environ.get("MLOPS_EXECUTOR", "") != "k8s":
        return None
    from resources.k8s import step_executor

    return step_executor()


defs = build_definitions()
