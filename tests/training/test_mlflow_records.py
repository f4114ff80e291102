"""What the MLflow UI tells after a lifecycle: ended runs, a loadable ONNX model, its data, plots and approvals."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from mlops_assets.core import domain as d
from mlops_assets.datasets.dataset_split import SPLIT
from mlops_assets.features.feature_definitions import FEATURE_SERVICE
from mlops_assets.registry.assets import APPROVER_TAGS
from mlops_assets.training.model_artifact import OnnxScorer, sha256_bytes
from resources.mlflow_tracking import MlflowResource
from tests.lifecycle_runs import build_downstream
from tests.lifecycle_state import Lifecycle

pytestmark = pytest.mark.slow

TERMINAL = {"FINISHED", "FAILED", "KILLED"}
MODEL_STEPS = dg.AssetSelection.assets("trained_model", "model_evaluation", "registered_model", "champion_model")
UI = "http://127.0.0.1:5000/#/"


def _runs_of(lifecycle: Lifecycle, dagster_run_id: str) -> list:
    mlflow = lifecycle.resources["mlflow"]
    return mlflow.client().search_runs(
        [mlflow.experiment_id()], filter_string=f"tags.dagster_run_id = '{dagster_run_id}'"
    )


def _champion(lifecycle: Lifecycle):
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    assert champion is not None, "the healthy lifecycle left no champion"
    return champion


def test_every_run_has_ended_and_the_lifecycle_run_finished_tagged_like_dagster_mlflow(lifecycle: Lifecycle):
    mlflow = lifecycle.resources["mlflow"]
    runs = mlflow.client().search_runs([mlflow.experiment_id()], max_results=5000)
    assert runs
    open_runs = [(r.info.run_name, r.info.status) for r in runs if r.info.status not in TERMINAL or not r.info.end_time]
    assert open_runs == []
    (run,) = _runs_of(lifecycle, lifecycle.downstream.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["dagster_job_name"] == lifecycle.downstream.dagster_run.job_name
    assert mlflow.client().get_experiment(run.info.experiment_id).tags["mlflow.experimentKind"] == (
        "custom_model_development"
    )


def test_the_champion_loads_with_pyfunc_and_scores_like_onnxruntime_on_its_registered_bytes(
    lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch
):
    import mlflow.pyfunc

    registry = lifecycle.resources["registry"]
    champion = _champion(lifecycle)
    onnx_bytes = registry.download(champion)  # the bytes Triton is given, checked against weights.sha256
    dataset = lifecycle.resources["lake"].read_parquet(
        "datasets", champion.tags["data.dataset_version"], "dataset.parquet"
    )
    rows = d.encode(dataset[dataset[SPLIT] == "oot_test"])
    assert np.isnan(rows).any(), "the comparison should include rows with missing values"
    # when MLflow itself loads the champion from the registry
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", registry.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{registry.model_name}@champion")
    # then it is the ONNX flavour with the encoded-feature contract, and scores exactly as onnxruntime does
    assert "onnx" in model.metadata.flavors
    (spec,) = model.metadata.get_input_schema().inputs
    assert spec.name == "X" and spec.shape == (-1, len(d.MODEL_FEATURES))
    assert model.metadata.metadata["input_columns"] == list(d.MODEL_FEATURES)
    assert model.metadata.metadata["feature_service"] == FEATURE_SERVICE
    assert model.metadata.saved_input_example_info["type"] == "ndarray"
    scores = model.predict(rows)["probabilities"][:, 1]
    np.testing.assert_allclose(scores, OnnxScorer(onnx_bytes).predict_proba(rows), rtol=0, atol=1e-6)


def test_the_version_is_registered_from_the_logged_model_and_its_file_is_the_hashed_artifact(
    lifecycle: Lifecycle, tmp_path: Path
):
    from mlflow.artifacts import download_artifacts

    registry = lifecycle.resources["registry"]
    client = registry.client()
    champion = _champion(lifecycle)
    model_id = champion.source.removeprefix("models:/")
    assert champion.source == f"models:/{model_id}"
    logged = client.get_logged_model(model_id)
    assert logged.source_run_id == champion.run_id and str(logged.status) == "READY"
    assert {"name": registry.model_name, "version": champion.version} in json.loads(logged.tags["mlflow.modelVersions"])
    assert model_id in [o.model_id for o in client.get_run(champion.run_id).outputs.model_outputs]
    files = {f.path for f in client.list_logged_model_artifacts(model_id)}
    assert {"MLmodel", "model.onnx", "input_example.json", "requirements.txt"} <= files
    local = download_artifacts(artifact_uri=f"{logged.artifact_location}/model.onnx", dst_path=str(tmp_path))
    assert sha256_bytes(Path(local).read_bytes()) == champion.tags["weights.sha256"]
    assert not any(p.suffix == ".pkl" or p.name.endswith(".pickle") for p in Path(tmp_path).rglob("*"))


def test_the_training_run_lists_its_three_sets_as_feast_datasets_with_the_dataset_version(lifecycle: Lifecycle):
    champion = _champion(lifecycle)
    run = lifecycle.resources["mlflow"].client().get_run(champion.run_id)
    inputs = {
        next(t.value for t in i.tags if t.key == "mlflow.data.context"): i.dataset for i in run.inputs.dataset_inputs
    }
    assert set(inputs) == {"training", "validation", "test"}
    version = champion.tags["data.dataset_version"]
    assert {ds.digest for ds in inputs.values()} == {version}
    assert inputs["training"].name == f"{FEATURE_SERVICE}.train"
    assert all(ds.source_type == "feast" for ds in inputs.values())
    assert json.loads(inputs["test"].source)["feature_service"] == FEATURE_SERVICE
    assert json.loads(inputs["training"].profile)["num_rows"] > 1_000
    columns = {c["name"] for c in json.loads(inputs["training"].schema)["mlflow_colspec"]}
    assert {*d.MODEL_FEATURES[:-2], d.LABEL, d.ENTITY} <= columns


def test_evaluation_plots_and_report_are_artifacts_and_its_metrics_belong_to_the_model(lifecycle: Lifecycle):
    mlflow = lifecycle.resources["mlflow"]
    client = mlflow.client()
    champion = _champion(lifecycle)
    files = {f.path for f in client.list_artifacts(champion.run_id, "evaluation")}
    assert files == {"evaluation/roc.png", "evaluation/calibration.png", "evaluation/report.json"}
    assert mlflow.download_bytes(champion.run_id, "evaluation/roc.png").startswith(b"\x89PNG")
    report = json.loads(mlflow.download_bytes(champion.run_id, "evaluation/report.json"))
    assert report["model_sha256"] == champion.tags["weights.sha256"]
    assert report["summary"]["oot_roc_auc"] == pytest.approx(float(champion.tags["eval.oot_roc_auc"]), rel=1e-5)
    model = client.get_logged_model(champion.source.removeprefix("models:/"))
    linked = {(m.key, m.dataset_name) for m in model.metrics}
    assert ("eval_oot_roc_auc", f"{FEATURE_SERVICE}.oot_test") in linked
    assert ("train_roc_auc", f"{FEATURE_SERVICE}.train") in linked


def test_dagster_metadata_links_to_the_runs_and_versions_in_the_mlflow_ui(lifecycle: Lifecycle):
    champion = _champion(lifecycle)
    (run,) = _runs_of(lifecycle, lifecycle.downstream.run_id)
    run_link = f"{UI}experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
    assert lifecycle.metadata("trained_model")["mlflow_run"] == run_link
    assert lifecycle.metadata("model_evaluation")["mlflow_run"] == run_link
    version_link = f"{UI}models/churn-classifier/versions/{champion.version}"
    assert lifecycle.metadata("registered_model")["mlflow_version"] == version_link
    assert lifecycle.metadata("champion_model")["mlflow_champion"] == version_link


def test_the_first_version_says_what_it_is_and_that_it_was_trained_on_request(lifecycle: Lifecycle):
    champion = _champion(lifecycle)
    text = champion.description
    assert text.startswith("Churn classifier (HistGradientBoosting as ONNX, sha256 ")
    assert "Trained on request" in text and champion.tags["data.dataset_version"] in text
    assert f"OOT ROC AUC {float(champion.tags['eval.oot_roc_auc']):.4f}" in text


def test_a_refused_retrain_carries_no_approver_and_its_description_names_the_trigger(lifecycle: Lifecycle):
    registry = lifecycle.resources["registry"]
    champion_before = _champion(lifecycle)
    # given a weak retrain launched by the drift sensor, let past evaluation and approved in its config
    run_config = dg.RunConfig(
        ops={
            "trained_model": {"config": {"max_iter": 2, "learning_rate": 0.01, "max_leaf_nodes": 2, "seed": 3}},
            "model_evaluation": {"config": {"min_oot_auc": 0.0}},
            "champion_model": {"config": {"approved_by": "alice@example.com"}},
        }
    )
    trigger = {"mlops/trigger": f"drift:champion-v{champion_before.version}", "mlops/reason": "data drift in plan"}
    result = build_downstream(
        lifecycle.defs, lifecycle.instance, run_config, selection=MODEL_STEPS, quiet=True, tags=trigger
    )
    # then the gate refuses it, and nothing on the version says it was approved
    assert result.success
    refused = registry.version_by_alias("challenger")
    assert refused.version != champion_before.version
    assert refused.tags["approval.status"] == "refused"
    assert [t for t in APPROVER_TAGS if t in refused.tags] == []
    assert refused.description.count(f"Retrained on drift:champion-v{champion_before.version} (data drift in plan)")
    assert f"for champion v{champion_before.version}" in refused.description
    (run,) = _runs_of(lifecycle, result.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["mlops/trigger"] == trigger["mlops/trigger"]
    # and the champion's own approval is untouched
    assert registry.get_version(champion_before.version).tags["approval.approved_by"]


def test_a_tuning_run_ends_every_trial_run_and_a_failing_step_ends_its_run_failed(lifecycle: Lifecycle):
    mlflow = lifecycle.resources["mlflow"]
    tuned = build_downstream(
        lifecycle.defs,
        lifecycle.instance,
        dg.RunConfig(ops={"trained_model": {"config": {"tuning_trials": 2, "max_iter": 40}}}),
        selection=dg.AssetSelection.assets("trained_model"),
        quiet=True,
    )
    (parent,) = _runs_of(lifecycle, tuned.run_id)
    children = mlflow.child_runs(parent.info.run_id)
    assert parent.info.status == "FINISHED" and len(children) == 2
    assert all(c.info.status in {"FINISHED", "KILLED"} and c.info.end_time >= c.info.start_time for c in children)
    # when the training step raises (an unknown tuning metric), the run ends FAILED, not RUNNING
    failed = build_downstream(
        lifecycle.defs,
        lifecycle.instance,
        dg.RunConfig(ops={"trained_model": {"config": {"tuning_trials": 1, "tuning_metric": "accuracy"}}}),
        selection=dg.AssetSelection.assets("trained_model"),
        quiet=True,
        raise_on_error=False,
    )
    assert not failed.success
    (run,) = _runs_of(lifecycle, failed.run_id)
    assert run.info.status == "FAILED" and run.info.end_time


def test_a_model_below_the_quality_floor_fails_its_step_and_its_run(lifecycle: Lifecycle):
    # given a candidate that cannot reach the floor, when the blocking quality check fails the step
    run_config = dg.RunConfig(
        ops={
            "trained_model": {"config": {"max_iter": 2, "max_leaf_nodes": 2, "seed": 5}},
            "model_evaluation": {"config": {"min_oot_auc": 0.999}},
        }
    )
    result = build_downstream(
        lifecycle.defs,
        lifecycle.instance,
        run_config,
        selection=dg.AssetSelection.assets("trained_model", "model_evaluation"),
        quiet=True,
        raise_on_error=False,
    )
    # then the MLflow run that trained and evaluated it ends FAILED too, saying which check failed
    assert not result.success
    (run,) = _runs_of(lifecycle, result.run_id)
    assert run.info.status == "FAILED" and run.info.end_time
    assert run.data.tags["mlops.failed_check"].startswith("quality_floor")
    assert "eval_oot_roc_auc" in run.data.metrics


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> MlflowResource:
    root = tmp_path_factory.mktemp("mlflow_store")
    return MlflowResource(tracking_uri=f"sqlite:///{root / 'mlflow.db'}", artifact_location=str(root / "artifacts"))


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (None, "FINISHED"),
        (RuntimeError("boom"), "FAILED"),
        (KeyboardInterrupt(), "KILLED"),
        (dg.DagsterExecutionInterruptedError(), "KILLED"),
    ],
)
def test_a_step_ends_its_run_with_the_steps_outcome(store: MlflowResource, raised: BaseException | None, status: str):
    tags = {"dagster/partition": "2026-01-02", "mlops/trigger": "drift:champion-v1", "other": "not copied"}
    dagster_run = dg.DagsterRun(job_name="retrain", run_id=f"run-{status}-{type(raised).__name__}", tags=tags)
    expected = pytest.raises(type(raised)) if raised else contextlib.nullcontext()
    with expected, store.tracked_run(dagster_run, "train") as tracked:
        if raised:
            raise raised
    run = store.client().get_run(tracked.run_id)
    assert run.info.status == status and run.info.end_time
    assert {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")} == {
        "dagster_run_id": dagster_run.run_id,
        "dagster_job_name": "retrain",
        "dagster_partition": "2026-01-02",
        "mlops/trigger": "drift:champion-v1",
    }


def test_a_retry_ends_the_run_its_dead_predecessor_left_running(store: MlflowResource):
    # given an attempt whose worker died mid-step: its MLflow run was never ended
    dead = store.run_for("attempt-1", run_name="train")
    assert store.client().get_run(dead).info.status == "RUNNING"
    # when run monitoring retries it (a new Dagster run whose parent is the dead one)
    retry = dg.DagsterRun(job_name="retrain", run_id="attempt-2", parent_run_id="attempt-1", root_run_id="attempt-1")
    with store.tracked_run(retry, "train") as tracked:
        pass
    # then the dead attempt's run is ended FAILED, saying who ended it, and the retry's own run finished
    ended = store.client().get_run(dead)
    assert ended.info.status == "FAILED" and ended.info.end_time
    assert "attempt-2" in ended.data.tags["mlops.ended_by"]
    assert store.client().get_run(tracked.run_id).info.status == "FINISHED"


def test_a_trial_that_raises_is_reported_failed_before_the_study_stops(tmp_path: Path):
    from mlops_assets.training.tuning import TrialOutcome, tune

    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 3))
    labels = np.where(rng.random(200) < 0.5, 0.0, np.nan)  # NaN labels: every fit raises
    reported: list[TrialOutcome] = []
    with pytest.raises(ValueError):
        tune(
            (features, labels),
            (features, labels),
            storage=f"sqlite:///{tmp_path / 'studies.db'}",
            study_name="failing",
            run_id="dagster-run",
            trials=3,
            timeout_s=None,
            seed=1,
            on_trial=reported.append,
        )
    assert [(o.number, o.state, o.steps) for o in reported] == [(0, "failed", 0)]
