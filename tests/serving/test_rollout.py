"""Canary outcomes on live traffic, and artifacts that must never reach Triton."""

import datetime as dt
import hashlib
import time

import dagster as dg
import pytest

from mlops_assets.core import domain as d
from mlops_assets.core.artifacts import ArtifactIntegrityError
from mlops_assets.deployment.assets import ProductionConfig
from mlops_assets.deployment.triton_repository import write_model_version
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.training.assets import TrainingConfig
from mlops_assets.training.model_artifact import Hyperparameters, sha256_bytes, to_onnx_bytes, train
from tests.lifecycle_runs import build_downstream

pytestmark = pytest.mark.slow


def _register(serving, onnx_bytes: bytes, name: str) -> str:
    resources = serving.defs.resources
    mlflow, registry = resources["mlflow"], resources["registry"]
    run_id = mlflow.run_for(f"test-{name}", run_name=name)
    uri = mlflow.log_bytes(run_id, onnx_bytes, "model", "model.onnx")
    version = registry.register(uri, run_id, {"weights.sha256": sha256_bytes(onnx_bytes), "weights.format": "onnx"})
    registry.move_alias("challenger", version.version, actor="test", reason=name)
    return str(version.version)


def _traffic(serving, n: int = 800) -> None:
    for start in range(0, n, 100):
        assert (
            serving.client.post("/v1/predict", json={"entity_ids": serving.entity_ids[start : start + 100]}).status_code
            == 200
        )
    serving.stack.gateway.log.flush()


@pytest.mark.reliability
def test_a_deliberately_bad_challenger_is_rolled_back_and_never_becomes_champion(serving):
    registry = serving.defs.resources["registry"]
    champion = str(registry.version_by_alias("champion").version)
    history_before = len(registry.alias_history())
    # given a challenger trained on inverted labels, on canary for half the traffic
    day = generate_day(dt.date(2026, 1, 3))
    bad = to_onnx_bytes(train(d.encode(day), 1 - day[d.LABEL].to_numpy(), Hyperparameters(max_iter=30)))
    bad_version = _register(serving, bad, "inverted-labels")
    serving.deploy(share=0.5)
    # when live traffic flows and the production deployment evaluates the canary
    _traffic(serving)
    config = dg.RunConfig(ops={"production_deployment": ProductionConfig(min_requests=100, approved_by="test")})
    result = build_downstream(
        serving.defs, serving.instance, config, selection=dg.AssetSelection.assets("production_deployment"), quiet=True
    )
    meta = result.asset_materializations_for_node("production_deployment")[0].metadata
    # then it is rolled back with the evidence recorded, and the champion never changed
    assert meta["decision"].value == f"v{bad_version} rolled back (degraded on live traffic)"
    assert "score distribution" in meta["reasons"].value
    assert meta["tests"].value["prediction_distribution"]["p_value"] < 1e-6
    assert str(registry.version_by_alias("champion").version) == champion
    assert registry.version_by_alias("challenger") is None
    assert registry.get_version(bad_version).tags["deploy.status"] == "rolled_back"
    moves = registry.alias_history()[history_before:]
    assert any(e.alias == "challenger" and e.version is None and e.previous_version == bad_version for e in moves)
    assert all(not (e.alias == "champion" and e.version == bad_version) for e in registry.alias_history())
    routed = serving.client.post("/v1/predict", json={"entity_ids": serving.entity_ids[:200]}).json()
    assert {p["model"] for p in routed["predictions"]} == {f"churn:{champion}"}


@pytest.mark.reliability
def test_a_tampered_artifact_is_refused_before_triton_can_load_it(serving, tmp_path):
    import datetime as dt

    day = generate_day(dt.date(2026, 1, 4))
    good = to_onnx_bytes(train(d.encode(day), day[d.LABEL].to_numpy(), Hyperparameters(max_iter=10)))
    version = _register(serving, good, "to-be-tampered")
    registry = serving.defs.resources["registry"]
    artifact = serving.data_dir / "mlflow" / "artifacts"
    stored = [
        p for p in artifact.rglob("model.onnx") if hashlib.sha256(p.read_bytes()).hexdigest() == sha256_bytes(good)
    ]
    assert stored, "the registered artifact was not found in the artifact store"
    stored[0].write_bytes(good[:-10] + b"tampered!!")
    with pytest.raises(Exception, match="sha256"):
        registry.download(registry.get_version(version))
    result = build_downstream(
        serving.defs,
        serving.instance,
        selection=dg.AssetSelection.assets("triton_model_repository"),
        quiet=True,
        raise_on_error=False,
    )
    assert not result.success
    assert not (serving.defs.resources["serving"].repository / "churn" / version).exists()
    registry.move_alias("challenger", None, actor="test", reason="cleanup")


def test_writing_a_version_whose_bytes_do_not_match_the_registry_writes_nothing(tmp_path):
    with pytest.raises(ArtifactIntegrityError, match="does not match"):
        write_model_version(tmp_path, 3, b"onnx bytes", hashlib.sha256(b"other bytes").hexdigest())
    assert not (tmp_path / "churn" / "3").exists()
    assert not any(p.name.startswith(".staging") for p in tmp_path.rglob("*"))


@pytest.mark.reliability
def test_a_challenger_the_gate_refuses_is_rolled_back_and_receives_no_more_traffic(serving):
    from tests.serving.conftest import RETRAIN

    registry = serving.defs.resources["registry"]
    champion = str(registry.version_by_alias("champion").version)
    # given a new challenger on canary for half the traffic, which serves healthily
    retrain = dg.RunConfig(ops={"trained_model": TrainingConfig(seed=11, max_iter=40)})
    build_downstream(serving.defs, serving.instance, retrain, selection=RETRAIN, quiet=True)
    challenger = str(registry.version_by_alias("challenger").version)
    assert challenger != champion
    serving.deploy(share=0.5)
    _traffic(serving)
    # when the decision runs with a margin no model can clear
    gate = ProductionConfig(min_requests=100, min_improvement=1.0, approved_by="test")
    result = build_downstream(
        serving.defs,
        serving.instance,
        dg.RunConfig(ops={"production_deployment": gate}),
        selection=dg.AssetSelection.assets("production_deployment"),
        quiet=True,
    )
    meta = result.asset_materializations_for_node("production_deployment")[0].metadata
    # then it is rolled back, says why, and every later request is answered by the champion
    assert meta["decision"].value == f"v{challenger} rolled back (refused by the promotion gate)"
    assert "below the required margin" in meta["reasons"].value
    assert registry.version_by_alias("challenger") is None
    assert str(registry.version_by_alias("champion").version) == champion
    assert registry.get_version(challenger).tags["deploy.status"] == "refused"
    time.sleep(1.0)  # the gateway re-reads the routing table at most every 0.5 s
    routed = serving.client.post("/v1/predict", json={"entity_ids": serving.entity_ids[:300]}).json()
    assert {p["model"] for p in routed["predictions"]} == {f"churn:{champion}"}
