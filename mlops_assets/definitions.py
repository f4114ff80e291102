"""The one ``Definitions`` object: every lifecycle asset, check, sensor and the profile's resources.

``workspace.yaml`` points here. Nothing on this import path imports Feast, MLflow or scikit-learn at module
level, so the code location loads in well under two seconds (``bench/`` measures it).
"""

from __future__ import annotations

from types import ModuleType

import dagster as dg

from mlops_assets.datasets import assets as datasets
from mlops_assets.deployment import assets as deployment
from mlops_assets.evaluation import assets as evaluation
from mlops_assets.features import assets as features
from mlops_assets.ingestion import assets as ingestion
from mlops_assets.monitoring import assets as monitoring
from mlops_assets.registry import assets as registry
from mlops_assets.training import assets as training
from mlops_assets.validation import assets as validation
from resources.profiles import build_resources
from sensors.canary import canary_sensor
from sensors.drift import drift_sensor
from sensors.jobs import DEPLOY_JOB, INGEST_JOB, RETRAIN_JOB
from sensors.landing import landing_sensor
from sensors.settings import DEFAULT_STATUS, INTERVAL_SECONDS

LIFECYCLE_MODULES = (ingestion, validation, features, datasets, training, evaluation, registry, deployment, monitoring)
OWNERS = ["team:ml-platform"]
AUTOMATION_SENSOR = dg.AutomationConditionSensorDefinition(
    "automation",
    target=dg.AssetSelection.all(),
    default_status=DEFAULT_STATUS,
    minimum_interval_seconds=INTERVAL_SECONDS,
    # runs straight to the run queue: a backfill would add the backfill daemon's tick to every step of the loop
    emit_backfills=False,
    description="Evaluates the assets' automation conditions: validation, features, reports, reference profile.",
)


def build_definitions(profile: str | None = None) -> dg.Definitions:
    """Assemble the platform for ``profile`` (``embedded`` by default, or ``production``)."""
    return dg.Definitions(
        assets=[asset for module in LIFECYCLE_MODULES for asset in stage_assets(module)],
        resources=build_resources(profile),
        jobs=[INGEST_JOB, RETRAIN_JOB, DEPLOY_JOB],
        sensors=[landing_sensor, drift_sensor, canary_sensor, AUTOMATION_SENSOR],
        executor=_executor(),
    )


def stage_assets(module: ModuleType) -> list[dg.AssetsDefinition]:
    """The assets of one stage's ``assets`` module, in a group named after the stage's package.

    The folder is the group: a newcomer who sees ``monitoring`` in the UI finds its assets in
    ``mlops_assets/monitoring/``, and no decorator repeats its stage's name or the owning team.
    """
    stage = module.__name__.split(".")[-2]
    assets = dg.load_assets_from_modules([module], group_name=stage)
    return dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=OWNERS), assets)


def _executor() -> dg.ExecutorDefinition:
    """``MLOPS_EXECUTOR=k8s``: every step in its own Kubernetes pod (dagster-k8s); else one process per run.

    The in-process executor runs a run's steps in the run's own process: on one machine a subprocess per
    step would import Dagster, pandas and the model stack again for every step (seconds each).

    Imported only when asked for, so dagster-k8s stays off the Definitions load path of the default setup.
    The image, namespace and service account come from the K8sRunLauncher the Helm chart configures.
    """
    import os

    if os.environ.get("MLOPS_EXECUTOR", "") != "k8s":
        return dg.in_process_executor
    from resources.k8s import step_executor

    return step_executor()


defs = build_definitions()
