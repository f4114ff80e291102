"""Hyperparameter tuning inside ``trained_model``: Optuna trials as MLflow child runs, a study that persists."""

from __future__ import annotations

import math

import dagster as dg
import pytest

from mlops_assets.training.assets import TrainingConfig
from tests.lifecycle_runs import build_downstream
from tests.lifecycle_state import Lifecycle

pytestmark = pytest.mark.slow


def _tuned(lifecycle: Lifecycle, trials: int) -> tuple[dict, str]:
    config = dg.RunConfig(ops={"trained_model": TrainingConfig(tuning_trials=trials, seed=42)})
    result = build_downstream(
        lifecycle.defs, lifecycle.instance, config, selection=dg.AssetSelection.assets("trained_model"), quiet=True
    )
    meta = result.asset_materializations_for_node("trained_model")[0].metadata
    return meta, result.run_id


def _children(lifecycle: Lifecycle, dagster_run_id: str) -> list:
    mlflow = lifecycle.resources["mlflow"]
    return mlflow.child_runs(mlflow.run_for(dagster_run_id, run_name="unused"))


def test_a_tuning_run_logs_each_trial_as_a_child_run_and_trains_the_best(lifecycle: Lifecycle):
    meta, run_id = _tuned(lifecycle, trials=6)
    study = meta["tuning"].value
    children = _children(lifecycle, run_id)
    # every trial is a child run with its params, seed, metric and duration
    assert study["trials"] == len(children) == 6
    for child in children:
        assert {"learning_rate", "max_iter", "max_leaf_nodes", "l2_regularization", "seed"} <= child.data.params.keys()
        assert child.data.params["seed"] == "42"
        assert child.data.metrics["duration_s"] > 0
    assert sum(c.data.tags["optuna.state"] == "pruned" for c in children) == study["pruned"]
    # the best complete trial by validation ROC AUC is the one whose parameters trained the model
    complete = [c for c in children if c.data.tags["optuna.state"] == "complete"]
    best = max(complete, key=lambda c: c.data.metrics["validation_roc_auc"])
    assert math.isclose(best.data.metrics["validation_roc_auc"], study["best_validation_value"], rel_tol=1e-9)
    assert best.data.tags["optuna.trial"] == str(study["best_trial"])
    params = meta["params"].value
    assert params["max_iter"] == int(best.data.params["max_iter"])
    assert math.isclose(params["learning_rate"], float(best.data.params["learning_rate"]), rel_tol=1e-12)


def test_a_second_retrain_continues_the_stored_study_starting_from_its_best_parameters(lifecycle: Lifecycle):
    import optuna

    before = _tuned(lifecycle, trials=3)[0]["tuning"].value
    tuning = lifecycle.resources["tuning"]
    incumbent = optuna.load_study(study_name=before["study"], storage=tuning.storage_url()).best_trial.params
    meta, run_id = _tuned(lifecycle, trials=4)
    study = meta["tuning"].value
    children = _children(lifecycle, run_id)
    assert study["trials"] == len(children) == 4
    assert study["trials_in_study"] == before["trials_in_study"] + 4, "the study did not persist between runs"
    # the run's first trial re-scores the study's best parameters on this run's data, and is never pruned
    first = children[0]
    assert first.data.tags["optuna.state"] == "complete"
    assert {k: float(first.data.params[k]) for k in incumbent} == pytest.approx(incumbent)


def test_without_a_budget_the_configured_hyperparameters_are_used_as_given(lifecycle: Lifecycle):
    config = dg.RunConfig(ops={"trained_model": TrainingConfig(max_iter=30, learning_rate=0.1)})
    result = build_downstream(
        lifecycle.defs, lifecycle.instance, config, selection=dg.AssetSelection.assets("trained_model"), quiet=True
    )
    meta = result.asset_materializations_for_node("trained_model")[0].metadata
    assert meta["params"].value["max_iter"] == 30 and meta["tuning"].value == {"trials": 0}
    assert _children(lifecycle, result.run_id) == []
