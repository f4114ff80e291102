"""Hyperparameter search with Optuna: TPE sampling, median pruning, a study that outlives the run.

The study lives in a persistent storage (SQLite by default, PostgreSQL in production) under one name per
model, so a retrain continues the same study: TPE proposes from every earlier trial (warm start) instead
of starting blind, and the study's best parameters are scored again first, on the new data. Each trial
trains in stages (a quarter, half, all of its boosting iterations, with ``warm_start``) and reports the
validation metric after each; the median pruner stops trials that are already worse than the median of
earlier trials at the same stage.

The best trial is chosen among *this* run's trials, because earlier trials were scored on older data;
the final model is then trained once more by ``model_artifact.train`` with the chosen parameters and the
run's seed, so the artifact is reproducible from the recorded parameters alone.

Trials compare candidates, they do not ship a model: beyond a cap, each trial fits and scores on a seeded
sample of the rows (``sample_rows``), so a study's cost stops growing with the data while the final model
still trains on every row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlops_assets.training.model_artifact import Hyperparameters, classifier, fit_threads

METRICS = ("roc_auc", "log_loss")
STAGES = (0.25, 0.5, 1.0)
RUN_ATTR = "run_id"


@dataclass(frozen=True)
class TrialOutcome:
    """What a caller logs per trial (an MLflow child run here): number, params, value, state, duration.

    ``state`` is ``complete``, ``pruned`` (stopped early by the pruner) or ``failed`` (it raised; the
    exception then ends the study and the run).
    """

    number: int
    params: Hyperparameters
    value: float | None
    state: str
    duration_s: float
    steps: int


@dataclass(frozen=True)
class TuningResult:
    """The run's best parameters and value, and how many trials ran, were pruned, and the study holds."""

    best: Hyperparameters
    best_value: float
    best_trial: int
    trials_this_run: int
    trials_in_study: int
    pruned_this_run: int


def sample_rows(rows: int, max_rows: int, seed: int) -> np.ndarray | None:
    """Positions of at most ``max_rows`` of ``rows`` rows, seeded and in their order; None keeps them all.

    Fitting is at least linear in the rows and a study fits several trials in stages, so tuning on a
    sample bounds its time; the ranking of hyperparameters moves little beyond a hundred thousand rows.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
    if rows <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))


def suggest(trial, seed: int) -> Hyperparameters:  # noqa: ANN001 - optuna.Trial
    """The search space; the seed is fixed by the run, not searched."""
    return Hyperparameters(
        learning_rate=trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        max_iter=trial.suggest_int("max_iter", 40, 240, step=40),
        max_leaf_nodes=trial.suggest_int("max_leaf_nodes", 7, 63, log=True),
        l2_regularization=trial.suggest_float("l2_regularization", 1e-6, 1.0, log=True),
        seed=seed,
    )


def _score(metric: str, labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import log_loss, roc_auc_score

    if metric == "roc_auc":
        return float(roc_auc_score(labels, scores))
    return float(log_loss(labels, np.clip(scores, 1e-7, 1 - 1e-7), labels=[0, 1]))


def tune(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    *,
    storage: str,
    study_name: str,
    run_id: str,
    trials: int,
    timeout_s: float | None,
    seed: int,
    metric: str = "roc_auc",
    parallelism: int = 1,
    on_trial: Callable[[TrialOutcome], None] | None = None,
) -> TuningResult:
    """Run ``trials`` more trials of the persistent study ``study_name`` and return this run's best."""
    import optuna

    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    maximize = metric == "roc_auc"
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize" if maximize else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
        load_if_exists=True,
    )
    (x_train, y_train), (x_val, y_val) = train, validation
    # Warm start: the study's best parameters are scored again on this run's data as its first trial,
    # never pruned, so every run has a complete incumbent even when the pruner stops everything else.
    first = len(study.trials)
    earlier = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if earlier:
        study.enqueue_trial(study.best_trial.params)

    def objective(trial) -> float:  # noqa: ANN001
        trial.set_user_attr(RUN_ATTR, run_id)
        params = suggest(trial, seed)
        started = time.perf_counter()
        model = classifier(params, warm_start=True)
        value, done = float("nan"), 0
        try:
            for step, share in enumerate(STAGES):
                model.max_iter = max(1, int(params.max_iter * share))
                model.fit(x_train, y_train)
                value, done = _score(metric, y_val, model.predict_proba(x_val)[:, 1]), step + 1
                trial.report(value, step)
                if trial.number != first and trial.should_prune():
                    _report(on_trial, trial.number, params, value, "pruned", started, done)
                    raise optuna.TrialPruned()
        except optuna.TrialPruned:
            raise
        except Exception:
            _report(on_trial, trial.number, params, value, "failed", started, done)
            raise
        _report(on_trial, trial.number, params, value, "complete", started, len(STAGES))
        return value

    with fit_threads():  # process-wide, so set once around every trial's fits rather than per trial
        study.optimize(objective, n_trials=trials, timeout=timeout_s, n_jobs=parallelism)
    mine = [t for t in study.trials if t.user_attrs.get(RUN_ATTR) == run_id]
    complete = [t for t in mine if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise RuntimeError(f"no trial of this run completed ({len(mine)} started): raise the budget")
    best = max(complete, key=lambda t: t.value if maximize else -t.value)
    return TuningResult(
        best=Hyperparameters(**{**best.params, "seed": seed}),
        best_value=float(best.value),
        best_trial=best.number,
        trials_this_run=len(mine),
        trials_in_study=len(study.trials),
        pruned_this_run=sum(t.state == optuna.trial.TrialState.PRUNED for t in mine),
    )


def _report(
    on_trial: Callable[[TrialOutcome], None] | None,
    number: int,
    params: Hyperparameters,
    value: float,
    state: str,
    started: float,
    steps: int,
) -> None:
    if on_trial is not None:
        on_trial(TrialOutcome(number, params, value, state, time.perf_counter() - started, steps))
