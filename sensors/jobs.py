"""The named jobs the sensors launch; every run in the instance is one of these or an automation run.

Each can be re-executed from the UI. ``retrain`` ends on canary, never in production: promotion is the
``deploy`` job's decision, behind the gate and its approval.
"""

from __future__ import annotations

import dagster as dg

from sensors.settings import CANARY_SHARE, RETRAIN_TUNING_TRIALS

INGEST_JOB = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets("raw_churn_events"),
    description="Ingest the landed days (the landing sensor launches it per batch of new days).",
)
RETRAIN_JOB = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.assets(
        "training_dataset",
        "trained_model",
        "model_evaluation",
        "registered_model",
        "triton_model_repository",
        "canary_deployment",
    ),
    description="Build the dataset, retrain, evaluate, register a challenger and put it on canary.",
    # deploy/dagster.yaml limits runs with this tag to one at a time: two drift events queue their
    # retrains instead of racing to register challengers
    tags={"mlops/model": "churn"},
    # a sensor's retrain continues the model's Optuna study with a small budget
    config={
        "ops": {
            "trained_model": {"config": {"tuning_trials": RETRAIN_TUNING_TRIALS, "tuning_timeout_s": 120.0}},
            "canary_deployment": {"config": {"challenger_share": CANARY_SHARE}},
        }
    },
)
DEPLOY_JOB = dg.define_asset_job(
    "deploy",
    selection=dg.AssetSelection.assets("production_deployment"),
    description="The production decision on the challenger: promote, roll back, or keep the canary.",
    tags={"mlops/model": "churn"},
)
