"""Faults in the middle of work: nothing half-written is ever read, nothing half-registered is left."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys

import dagster as dg
import pytest

from mlops_assets.training.assets import TrainingConfig
from mlops_assets.training.model_record import ModelRecord
from resources.mlflow_tracking import MlflowResource
from resources.polling import wait_until
from resources.profiles import project_root
from resources.record_io_manager import read_record
from tests.lifecycle_runs import build_downstream
from tests.lifecycle_state import Lifecycle

pytestmark = pytest.mark.reliability

WRITER = """
import sys
from resources import atomic
atomic.write_bytes(sys.argv[1], bytes([int(sys.argv[2])]) * int(sys.argv[3]))
"""


def test_a_writer_killed_mid_write_leaves_the_previous_artifact_whole(tmp_path):
    target = tmp_path / "model.onnx"
    old = b"\x01" * 1024
    target.write_bytes(old)
    size = 300 * 1024 * 1024
    killed_mid_write = 0
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), "2", str(size)],
            cwd=project_root(),
            env={**os.environ, "PYTHONPATH": str(project_root())},
        )
        with contextlib.suppress(TimeoutError):  # killed all the same; the assertion below says it proved nothing
            wait_until(
                lambda writer=writer: list(tmp_path.glob(".model.onnx.*.tmp")) or writer.poll() is not None,
                30,
                0.001,
                "the writer's temporary file",
            )
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        data = target.read_bytes()
        # the reader sees the old artifact or the complete new one, never a prefix of it
        assert data == old or (len(data) == size and data[:1] == b"\x02" and data[-1:] == b"\x02")
        if data == old:
            killed_mid_write += 1
        for stray in tmp_path.glob(".model.onnx.*.tmp"):
            stray.unlink()
    assert killed_mid_write, "never managed to kill the writer before its rename; the test proved nothing"


@pytest.mark.slow
def test_training_with_the_tracking_store_down_fails_cleanly_and_a_retry_registers_once(
    lifecycle: Lifecycle, monkeypatch
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "3")
    registry = lifecycle.resources["registry"]
    versions_before = len(registry.client().search_model_versions(f"name='{registry.model_name}'"))
    candidate_before = read_record(lifecycle.resources["lake"], "trained_model", ModelRecord)
    selection = dg.AssetSelection.assets("trained_model", "model_evaluation", "registered_model")
    down = {**lifecycle.resources, "mlflow": MlflowResource(tracking_uri="http://127.0.0.1:9")}
    other_seed = dg.RunConfig(ops={"trained_model": TrainingConfig(seed=7)})  # a model the registry does not hold yet
    failed = dg.materialize(
        list(lifecycle.defs.assets),
        selection=selection,
        instance=lifecycle.instance,
        resources=down,
        run_config=other_seed,
        raise_on_error=False,
    )
    assert not failed.success
    failure = next(e for e in failed.all_events if e.is_step_failure)
    assert failure.step_key == "trained_model" and "127.0.0.1:9" in str(failure.event_specific_data.error)
    # nothing half-done: no new registry version, the previous candidate record untouched
    assert len(registry.client().search_model_versions(f"name='{registry.model_name}'")) == versions_before
    assert read_record(lifecycle.resources["lake"], "trained_model", ModelRecord) == candidate_before
    # the same selection retried with the store back registers exactly one version
    build_downstream(lifecycle.defs, lifecycle.instance, other_seed, selection=selection, quiet=True)
    assert len(registry.client().search_model_versions(f"name='{registry.model_name}'")) == versions_before + 1


def test_no_code_of_ours_unpickles_anything():
    """Registry artifacts are ONNX, checked by sha256 before use; a pickle loader anywhere would undo that."""
    forbidden = ("pickle.load", "joblib.load", "cloudpickle", "mlflow.sklearn.load_model", "pyfunc.load_model")
    sources = [
        p for folder in ("mlops_assets", "resources", "sensors") for p in (project_root() / folder).rglob("*.py")
    ]
    offenders = [f"{p.name}: {word}" for p in sources for word in forbidden if word in p.read_text()]
    assert sources and offenders == []


def test_every_server_we_start_binds_loopback_by_default(tmp_path):
    from mlops_assets.cli.main import build_parser
    from mlops_assets.serving.triton_process import TritonServerProcess

    command = " ".join(TritonServerProcess(tmp_path / "repository").command())
    for flag in ("--http-address=127.0.0.1", "--grpc-address=127.0.0.1", "--metrics-address=127.0.0.1"):
        assert flag in command
    serve = build_parser().parse_args(["serve"])
    assert serve.host == "127.0.0.1"
    dev = (project_root() / "mlops_assets" / "cli" / "main.py").read_text()
    assert '"dev", "-w", workspace, "-h", "127.0.0.1"' in dev
    assert "--host 127.0.0.1" in (project_root() / "Makefile").read_text()


def test_mlops_serve_stopped_with_sigterm_flushes_every_prediction_and_takes_its_triton_down(
    lifecycle: Lifecycle, tmp_path
):
    import httpx

    from mlops_assets.serving.prediction_log import PredictionLog
    from tests.lifecycle_state import feature_row
    from tests.mlops_serve import answers, start_mlops_serve

    data_dir = tmp_path / "data"  # a copy: this server's prediction log must not reach the shared lifecycle
    shutil.copytree(lifecycle.data_dir, data_dir, ignore=shutil.ignore_patterns("predictions", "endpoint.json"))
    server, port = start_mlops_serve(data_dir)
    try:
        endpoint = json.loads((data_dir / "serving" / "endpoint.json").read_text())
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            answered = [client.post("/v1/predict", json={"rows": [feature_row()]}).status_code for _ in range(40)]
        assert answered == [200] * 40
        server.send_signal(signal.SIGTERM)  # at once: the log's one-second flush has not written these yet
        assert server.wait(60) == 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    assert not (data_dir / "serving" / "endpoint.json").exists()
    assert not answers(f"{endpoint['triton_http']}/v2/health/live"), "the Triton server outlived mlops serve"
    assert len(PredictionLog(data_dir / "serving" / "predictions").read()) == 40
