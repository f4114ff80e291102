"""Write Triton model repositories for the churn model (no Dagster here; the deployment assets use it).

Layout: ``<repo>/churn/<registry version>/model.onnx`` (+ ``model.py`` for the CPU Python backend) and
``<repo>/churn/config.pbtxt``; ``<repo>/churn_baseline/1/model.py`` is the always-loadable fallback.

- CPU (this machine): Triton's Python backend runs the ONNX file with onnxruntime, one thread per
  instance; ``dynamic_batching`` merges concurrent requests into one onnxruntime call.
- GPU: the same version directories are served by Triton's onnxruntime backend; render the config with
  ``gpu=True`` (``platform: "onnxruntime_onnx"``, ``KIND_GPU`` instance groups); ``model.py`` is then
  ignored. Triton reads ``model.onnx`` from each version directory by default.

A version directory is written under a temporary name and renamed into place only after the artifact's
sha256 matches the registry's, so Triton can never load a half-written or tampered model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from mlops_assets.core import baseline
from mlops_assets.core import domain as d
from mlops_assets.core.model_artifact import INPUT_NAME, PROBABILITY_OUTPUT

CHURN_MODEL = "churn"
BASELINE_MODEL = "churn_baseline"
SHA_FILE = "sha256"


class ArtifactIntegrityError(RuntimeError):
    """The bytes to deploy do not hash to what the registry recorded."""


PYTHON_MODEL = '''"""Triton Python backend: runs this version's model.onnx with onnxruntime (CPU)."""
import os

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        path = os.path.join(args["model_repository"], args["model_version"], "model.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def execute(self, requests):
        inputs = [pb_utils.get_input_tensor_by_name(r, "{input}").as_numpy() for r in requests]
        sizes = [len(x) for x in inputs]
        merged = np.concatenate(inputs).astype(np.float32, copy=False)
        probabilities = self.session.run(["{output}"], {{"{input}": merged}})[0].astype(np.float32)
        responses, start = [], 0
        for size in sizes:
            tensor = pb_utils.Tensor("{output}", probabilities[start:start + size])
            responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
            start += size
        return responses
'''

BASELINE_PY = '''"""Triton Python backend: the hand-set logistic fallback (numpy only), as core/baseline.py."""
import numpy as np
import triton_python_backend_utils as pb_utils

INTERCEPT = {intercept!r}
TERMS = {terms!r}  # (column index, weight, fill for missing, centre)


class TritonPythonModel:
    def initialize(self, args):
        pass

    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "{input}").as_numpy().astype(np.float64)
            logit = np.full(len(x), INTERCEPT)
            for index, weight, fill, centre in TERMS:
                column = np.where(np.isnan(x[:, index]), fill, x[:, index])
                logit += weight * (column - centre)
            churn = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
            tensor = pb_utils.Tensor("{output}", np.stack([1 - churn, churn], axis=1))
            responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
        return responses
'''


def render_config(
    name: str,
    *,
    gpu: bool = False,
    versions: list[int] | None = None,
    max_batch_size: int = 1024,
    instances: int = 1,
    queue_delay_us: int = 200,
) -> str:
    """config.pbtxt text for the churn model contract (input X [18], output probabilities [2])."""
    backend = 'platform: "onnxruntime_onnx"\nbackend: "onnxruntime"' if gpu else 'backend: "python"'
    policy = (
        f"version_policy: {{ specific: {{ versions: [{', '.join(map(str, sorted(versions)))}] }} }}"
        if versions
        else "version_policy: { latest: { num_versions: 1 } }"
    )
    return f"""name: "{name}"
{backend}
max_batch_size: {max_batch_size}
input [ {{ name: "{INPUT_NAME}" data_type: TYPE_FP32 dims: [ {len(d.MODEL_FEATURES)} ] }} ]
output [ {{ name: "{PROBABILITY_OUTPUT}" data_type: TYPE_FP32 dims: [ 2 ] }} ]
dynamic_batching {{ max_queue_delay_microseconds: {queue_delay_us} }}
instance_group [ {{ kind: {"KIND_GPU" if gpu else "KIND_CPU"} count: {instances} }} ]
{policy}
"""


def _atomic_dir(target: Path, files: dict[str, bytes]) -> None:
    staging = target.parent / f".staging-{target.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_model_version(
    repo: Path, version: int, onnx_bytes: bytes, expected_sha256: str, *, name: str = CHURN_MODEL, gpu: bool = False
) -> Path:
    """Add ``version`` to the repository after checking its hash; an existing identical version is kept."""
    actual = hashlib.sha256(onnx_bytes).hexdigest()
    if actual != expected_sha256:
        raise ArtifactIntegrityError(
            f"{name} v{version}: artifact sha256 {actual} does not match the registry's {expected_sha256}; refusing"
        )
    target = Path(repo) / name / str(version)
    if target.exists():
        recorded = (target / SHA_FILE).read_text().strip() if (target / SHA_FILE).exists() else ""
        if recorded != expected_sha256:
            raise ArtifactIntegrityError(f"{target} holds a different artifact ({recorded[:12]}); refusing to replace")
        return target
    files = {"model.onnx": onnx_bytes, SHA_FILE: expected_sha256.encode()}
    if not gpu:
        files["model.py"] = PYTHON_MODEL.format(input=INPUT_NAME, output=PROBABILITY_OUTPUT).encode()
    _atomic_dir(target, files)
    write_config(repo, name, gpu=gpu)
    return target


def write_config(repo: Path, name: str = CHURN_MODEL, **options: object) -> Path:
    path = Path(repo) / name / "config.pbtxt"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render_config(name, **options))  # type: ignore[arg-type]
    os.replace(tmp, path)
    return path


def write_baseline_model(repo: Path, name: str = BASELINE_MODEL) -> Path:
    """The fallback model, always present as version 1."""
    terms = [
        (
            d.MODEL_FEATURES.index(column),
            weight,
            baseline.FILL.get(column, 0.0),
            baseline.FILL[column] if column == "satisfaction_score" else 0.0,
        )
        for column, weight in baseline.COEFFICIENTS.items()
    ]
    source = BASELINE_PY.format(intercept=baseline.INTERCEPT, terms=terms, input=INPUT_NAME, output=PROBABILITY_OUTPUT)
    target = Path(repo) / name / "1"
    if target.exists():
        shutil.rmtree(target)
    _atomic_dir(target, {"model.py": source.encode()})
    write_config(repo, name, queue_delay_us=100)
    return target
