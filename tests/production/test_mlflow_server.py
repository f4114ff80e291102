"""Tracking and the registry through a real ``mlflow server`` on PostgreSQL, as the production profile runs."""

from __future__ import annotations

import datetime as dt

import pytest

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.training.model_artifact import Hyperparameters, sha256_bytes, to_onnx_bytes, train
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource

pytestmark = [pytest.mark.production, pytest.mark.slow]


def _model() -> bytes:
    day = generate_day(dt.date(2026, 1, 1), rows=400)
    return to_onnx_bytes(train(d.encode(day), day[d.LABEL].to_numpy(), Hyperparameters(max_iter=10)))


def test_runs_artifacts_and_aliases_go_through_the_tracking_server(mlflow_server, new_database, tmp_path):
    mlflow = MlflowResource(tracking_uri=mlflow_server)
    history = new_database("registry")
    registry = ModelRegistryResource(tracking_uri=mlflow_server, history_url=history)
    # one MLflow run per Dagster run, found again by its tag
    run_id = mlflow.run_for("dagster-run-1", run_name="trained_model")
    assert mlflow.run_for("dagster-run-1", run_name="trained_model") == run_id
    onnx = _model()
    uri = mlflow.log_bytes(run_id, onnx, "model", "model.onnx")
    version = registry.register(uri, run_id, {"weights.sha256": sha256_bytes(onnx), "weights.format": "onnx"})
    registry.move_alias("champion", version.version, actor="release-manager", reason="production profile test")
    mlflow.finish(run_id)

    # the artifact was proxied by the server into its artifact root, not written by the client
    stored = list((tmp_path / "mlflow-artifacts").rglob("model.onnx"))
    assert [p.read_bytes() for p in stored] == [onnx]
    # a second client (another pod) sees the champion, downloads it with the hash checked, reads the history
    other = ModelRegistryResource(tracking_uri=mlflow_server, history_url=history)
    champion = other.version_by_alias("champion")
    assert champion is not None and champion.version == version.version
    assert other.download(champion) == onnx
    assert [(e.alias, e.version, e.actor) for e in other.alias_history()] == [
        ("champion", str(version.version), "release-manager")
    ]
    assert mlflow.client().get_run(run_id).info.status == "FINISHED"


def test_the_run_link_put_into_metadata_never_carries_credentials_from_the_tracking_uri(mlflow_server):
    host = mlflow_server.removeprefix("http://")
    mlflow = MlflowResource(tracking_uri=f"http://ci-user:s3cret@{host}")
    link = mlflow.run_url("abc123")
    assert "s3cret" not in link and "ci-user" not in link
    assert link.startswith(f"http://{host}/#/experiments/")
