"""Both Triton model repositories, CPU and GPU, checked without a GPU.

Each config.pbtxt is parsed with Triton's own protobuf schema (``model_config_pb2``) and compared with the
ONNX graph it serves: backend, instance group, batching, tensor names, dtypes and dims. The GPU
repository's ``model.onnx`` must score exactly as the CPU repository's Python wrapper does (run here with a
minimal stand-in for ``triton_python_backend_utils``), and the ONNX baseline as the numpy one. The CPU
repository is also loaded into the real local Triton by the other tests in this folder; no GPU Triton
runs on these machines. Last, the deploy files: the cluster's runs write the GPU repository and Triton
asks for the GPU it is written for.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import types
from pathlib import Path

import dagster as dg
import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
import yaml
from google.protobuf import text_format
from onnx import TensorProto
from tritonclient.grpc import model_config_pb2 as mc

from mlops_assets.core import domain as d
from mlops_assets.core.baseline import baseline_scores
from mlops_assets.deployment.triton_repository import (
    BASELINE_MODEL,
    CHURN_MODEL,
    render_config,
    write_baseline_model,
    write_config,
    write_model_version,
)
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.training.model_artifact import (
    INPUT_NAME,
    PROBABILITY_OUTPUT,
    Hyperparameters,
    sha256_bytes,
    to_onnx_bytes,
    train,
)
from resources.profiles import production_resources, project_root
from resources.serving import ServingResource

VERSION = 3
DEVICES = ("cpu", "gpu")
ONNX_TO_TRITON = {TensorProto.FLOAT: mc.TYPE_FP32, TensorProto.DOUBLE: mc.TYPE_FP64, TensorProto.INT64: mc.TYPE_INT64}
DEPLOY = project_root() / "deploy"


@pytest.fixture(scope="module")
def day() -> pd.DataFrame:
    return generate_day(dt.date(2026, 1, 2), rows=400)


@pytest.fixture(scope="module")
def features(day: pd.DataFrame) -> np.ndarray:
    """Encoded rows as the gateway sends them, some with missing values."""
    return d.encode(day).astype(np.float32)


@pytest.fixture(scope="module")
def model_bytes(day: pd.DataFrame, features: np.ndarray) -> bytes:
    """A small trained churn model, as the registry stores it."""
    return to_onnx_bytes(train(features, day[d.LABEL].to_numpy(), Hyperparameters(max_iter=10)))


def _write(repo: Path, device: str, model_bytes: bytes) -> Path:
    write_model_version(repo, VERSION, model_bytes, sha256_bytes(model_bytes), device=device)
    write_baseline_model(repo, device=device)
    write_config(repo, CHURN_MODEL, device=device)
    return repo


@pytest.fixture(scope="module")
def repositories(tmp_path_factory: pytest.TempPathFactory, model_bytes: bytes) -> dict[str, Path]:
    """One repository per device, written from the same registry bytes."""
    return {device: _write(tmp_path_factory.mktemp(device), device, model_bytes) for device in DEVICES}


def _config(repo: Path, model: str) -> mc.ModelConfig:
    return text_format.Parse((repo / model / "config.pbtxt").read_text(), mc.ModelConfig())


def _tensors(values: list[onnx.ValueInfoProto], initializers: set[str]) -> dict[str, tuple[int, list[int | None]]]:
    """ONNX graph tensors by name: (element type, dims with None for a dynamic dim)."""
    return {
        value.name: (
            value.type.tensor_type.elem_type,
            [dim.dim_value if dim.HasField("dim_value") else None for dim in value.type.tensor_type.shape.dim],
        )
        for value in values
        if value.name not in initializers
    }


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("model", [CHURN_MODEL, BASELINE_MODEL])
def test_every_config_parses_as_a_triton_model_config_with_its_device_backend_and_batching(repositories, device, model):
    config = _config(repositories[device], model)
    assert config.name == model
    assert config.backend == ("onnxruntime" if device == "gpu" else "python")
    assert config.max_batch_size == 1024
    assert config.HasField("dynamic_batching")
    [group] = config.instance_group
    if device == "gpu":
        assert group.kind == mc.ModelInstanceGroup.KIND_GPU
        assert list(group.gpus) == [0], "every model on the one GPU the Triton pod gets"
        assert group.count == (2 if model == CHURN_MODEL else 1)
    else:
        assert group.kind == mc.ModelInstanceGroup.KIND_CPU
        assert group.count == 1


@pytest.mark.parametrize(
    ("device", "model", "version"),
    [("cpu", CHURN_MODEL, VERSION), ("gpu", CHURN_MODEL, VERSION), ("gpu", BASELINE_MODEL, 1)],
)
def test_config_inputs_and_outputs_agree_with_the_onnx_graph_served(repositories, device, model, version):
    repo = repositories[device]
    graph = onnx.load(repo / model / str(version) / "model.onnx").graph
    initializers = {init.name for init in graph.initializer}
    inputs, outputs = _tensors(graph.input, initializers), _tensors(graph.output, initializers)
    config = _config(repo, model)
    assert [t.name for t in config.input] == [INPUT_NAME] == list(inputs)
    assert [t.name for t in config.output] == [PROBABILITY_OUTPUT]
    for declared, graph_tensors in ((config.input, inputs), (config.output, outputs)):
        for tensor in declared:
            elem_type, dims = graph_tensors[tensor.name]
            assert tensor.data_type == ONNX_TO_TRITON[elem_type] == mc.TYPE_FP32
            assert dims[0] is None, "max_batch_size > 0: Triton adds the batch dim, which must be dynamic"
            assert list(tensor.dims) == dims[1:]
    assert list(config.input[0].dims) == [len(d.MODEL_FEATURES)]


def test_a_gpu_version_holds_the_registry_bytes_and_nothing_for_the_python_backend(repositories, model_bytes):
    gpu_version = repositories["gpu"] / CHURN_MODEL / str(VERSION)
    cpu_version = repositories["cpu"] / CHURN_MODEL / str(VERSION)
    assert sorted(p.name for p in gpu_version.iterdir()) == ["model.onnx", "sha256"]
    assert sorted(p.name for p in cpu_version.iterdir()) == ["model.onnx", "model.py", "sha256"]
    assert (gpu_version / "model.onnx").read_bytes() == (cpu_version / "model.onnx").read_bytes() == model_bytes
    assert sorted(p.name for p in (repositories["gpu"] / BASELINE_MODEL / "1").iterdir()) == ["model.onnx"]


@pytest.fixture
def python_backend(monkeypatch: pytest.MonkeyPatch):
    """Load a Python-backend ``model.py`` against a minimal ``triton_python_backend_utils``.

    Requests are dicts of named tensors; each response keeps its output tensors. Only what the two
    models call is provided, so a model using anything else fails here as it would need the real one.
    """

    class Tensor:
        def __init__(self, name: str, array: np.ndarray) -> None:
            self._name, self._array = name, array

        def name(self) -> str:
            return self._name

        def as_numpy(self) -> np.ndarray:
            return self._array

    class InferenceResponse:
        def __init__(self, output_tensors: list[Tensor]) -> None:
            self.output_tensors = output_tensors

    stub = types.ModuleType("triton_python_backend_utils")
    stub.Tensor = Tensor
    stub.InferenceResponse = InferenceResponse
    stub.get_input_tensor_by_name = lambda request, name: request[name]
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", stub)

    def load(model_dir: Path, version: int, batches: list[np.ndarray]) -> np.ndarray:
        spec = importlib.util.spec_from_file_location(
            f"triton_model_{model_dir.name}", model_dir / str(version) / "model.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.TritonPythonModel()
        model.initialize({"model_repository": str(model_dir), "model_version": str(version)})
        responses = model.execute([{INPUT_NAME: Tensor(INPUT_NAME, batch)} for batch in batches])
        assert [r.output_tensors[0].name() for r in responses] == [PROBABILITY_OUTPUT] * len(batches)
        return np.concatenate([r.output_tensors[0].as_numpy() for r in responses])

    return load


def _onnxruntime_cpu(path: Path, rows: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([PROBABILITY_OUTPUT], {INPUT_NAME: rows})[0]


def test_the_gpu_repositorys_model_scores_as_the_cpu_wrapper_does(repositories, python_backend, features):
    rows = features[:12]
    assert np.isnan(rows).any(), "missing values are part of what both must agree on"
    cpu = python_backend(repositories["cpu"] / CHURN_MODEL, VERSION, [rows[:5], rows[5:]])
    gpu = _onnxruntime_cpu(repositories["gpu"] / CHURN_MODEL / str(VERSION) / "model.onnx", rows)
    assert cpu.shape == gpu.shape == (12, 2) and gpu.dtype == np.float32
    np.testing.assert_array_equal(gpu, cpu)


def test_the_onnx_baseline_scores_as_the_python_baseline_and_the_gateways_rule(repositories, python_backend, features):
    rows = np.concatenate([features[:10], np.full((2, len(d.MODEL_FEATURES)), np.nan, dtype=np.float32)])
    cpu = python_backend(repositories["cpu"] / BASELINE_MODEL, 1, [rows[:4], rows[4:]])
    gpu = _onnxruntime_cpu(repositories["gpu"] / BASELINE_MODEL / "1" / "model.onnx", rows)
    np.testing.assert_allclose(gpu, cpu, rtol=0, atol=1e-7)
    np.testing.assert_allclose(gpu[:, 1], baseline_scores(rows), rtol=0, atol=1e-7)
    np.testing.assert_allclose(gpu.sum(axis=1), 1.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("first", "then"), [("cpu", "gpu"), ("gpu", "cpu")])
def test_rewriting_a_repository_for_the_other_device_completes_what_is_on_disk(tmp_path, model_bytes, first, then):
    _write(tmp_path, first, model_bytes)
    _write(tmp_path, then, model_bytes)
    version = tmp_path / CHURN_MODEL / str(VERSION)
    assert (version / "model.onnx").read_bytes() == model_bytes
    assert (version / "model.py").exists() == (then == "cpu" or first == "cpu")
    assert _config(tmp_path, CHURN_MODEL).backend == ("onnxruntime" if then == "gpu" else "python")
    baseline_files = {p.name for p in (tmp_path / BASELINE_MODEL / "1").iterdir()}
    assert baseline_files == ({"model.onnx"} if then == "gpu" else {"model.py"})


def test_an_unknown_device_is_refused_naming_the_value_and_the_choices(tmp_path):
    with pytest.raises(ValueError, match=r"one of \('cpu', 'gpu'\), got 'tpu'"):
        ServingResource(state_dir=str(tmp_path), device="tpu")
    with pytest.raises(ValueError, match="'GPU'"):
        render_config(CHURN_MODEL, device="GPU")


def test_the_production_profile_takes_the_device_from_mlops_triton_device(monkeypatch):
    monkeypatch.delenv("MLOPS_TRITON_DEVICE", raising=False)
    assert production_resources()["serving"].device == "cpu"
    monkeypatch.setenv("MLOPS_TRITON_DEVICE", "gpu")
    assert production_resources()["serving"].device == "gpu"


def test_the_asset_writes_the_gpu_repository_and_records_the_device(tmp_path, model_bytes):
    from mlops_assets.deployment.assets import triton_model_repository
    from resources.mlflow_tracking import MlflowResource
    from resources.model_registry import ModelRegistryResource

    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow = MlflowResource(tracking_uri=tracking, artifact_location=str(tmp_path / "artifacts"))
    registry = ModelRegistryResource(tracking_uri=tracking, history_url=f"sqlite:///{tmp_path / 'history.db'}")
    run_id = mlflow.run_for("dagster-run-1", run_name="trained_model")
    uri = mlflow.log_bytes(run_id, model_bytes, "model", "model.onnx")
    version = registry.register(uri, run_id, {"weights.sha256": sha256_bytes(model_bytes)})
    registry.move_alias("champion", version.version, actor="test", reason="GPU repository")
    serving = ServingResource(state_dir=str(tmp_path / "serving"), device="gpu")

    result = dg.materialize([triton_model_repository], resources={"registry": registry, "serving": serving})

    metadata = result.asset_materializations_for_node("triton_model_repository")[0].metadata
    assert metadata["device"].value == "gpu"
    assert 'backend: "onnxruntime"' in metadata["config.pbtxt"].value
    written = serving.repository / CHURN_MODEL / str(version.version) / "model.onnx"
    assert written.read_bytes() == model_bytes
    assert _config(serving.repository, BASELINE_MODEL).backend == "onnxruntime"


# --- deploy/: the cluster writes the GPU repository and Triton serves it on a GPU ---


def _triton_container() -> tuple[dict, dict]:
    documents = yaml.safe_load_all((DEPLOY / "k8s" / "triton.yaml").read_text())
    deployment = next(doc for doc in documents if doc and doc["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"], deployment["spec"]["template"]["spec"]["containers"][0]


def test_the_triton_deployment_requests_a_gpu_and_reads_the_repository_the_runs_write():
    pod, container = _triton_container()
    assert container["resources"]["requests"]["nvidia.com/gpu"] == container["resources"]["limits"]["nvidia.com/gpu"]
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "1"
    mount = next(m for m in container["volumeMounts"] if m["name"] == "serving")
    assert f"--model-repository={mount['mountPath']}" in container["args"]
    claim = next(v for v in pod["volumes"] if v["name"] == "serving")["persistentVolumeClaim"]["claimName"]

    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert next(v for v in launcher["volumes"] if v["name"] == "serving")["persistentVolumeClaim"]["claimName"] == claim
    run_mount = next(m for m in launcher["volumeMounts"] if m["name"] == "serving")["mountPath"]
    env = {e["name"]: e["value"] for e in values["dagster-user-deployments"]["deployments"][0]["env"]}
    # what the runs write (ServingResource.repository under MLOPS_SERVING_STATE_DIR) is Triton's subPath
    repository = ServingResource(state_dir=env["MLOPS_SERVING_STATE_DIR"]).repository
    assert repository.relative_to(run_mount) == Path(mount["subPath"])


def test_cluster_runs_get_mlops_triton_device_gpu_and_the_profile_turns_it_into_a_gpu_repository(monkeypatch):
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    code_location_env = {e["name"]: e["value"] for e in values["dagster-user-deployments"]["deployments"][0]["env"]}
    run_env = dict(v.split("=", 1) for v in values["runLauncher"]["config"]["k8sRunLauncher"]["envVars"])
    assert code_location_env["MLOPS_TRITON_DEVICE"] == run_env["MLOPS_TRITON_DEVICE"] == "gpu"
    monkeypatch.setenv("MLOPS_TRITON_DEVICE", run_env["MLOPS_TRITON_DEVICE"])
    assert production_resources()["serving"].device == "gpu"


def test_the_single_host_example_keeps_the_cpu_repository_its_local_triton_can_load():
    lines = (DEPLOY / "production.env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert settings["MLOPS_TRITON_DEVICE"] == "cpu"
