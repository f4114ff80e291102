"""Write Triton model repositories for the churn model (no Dagster here; the deployment assets use it).

Layout: ``<repo>/churn/<registry version>/model.onnx`` and ``<repo>/churn/config.pbtxt``;
``<repo>/churn_baseline/1/`` is the always-loadable fallback. What else a version holds depends on the
device the repository is written for (``ServingResource.device``):

- ``cpu`` (machines without a GPU, the local Triton): Triton's Python backend runs ``model.onnx`` with
  onnxruntime, one thread per instance, from a ``model.py`` beside it; ``dynamic_batching`` merges
  concurrent requests into one onnxruntime call. The baseline is a numpy ``model.py``.
- ``gpu``: Triton's onnxruntime backend serves ``model.onnx`` directly on ``KIND_GPU`` instances that
  share GPU 0; the baseline is an ONNX graph too (``core/triton_gpu_config.py``).

A version directory is written under a temporary name and renamed into place only after the artifact's
sha256 matches the registry's, so Triton can never load a half-written or tampered model. A version
already on disk for the other device gains the files this device needs, so switching device is a
re-materialization, not a cleanup.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Literal, cast

from mlops_assets.core import baseline
from mlops_assets.core import domain as d
from mlops_assets.core.artifacts import BASELINE_MODEL, CHURN_MODEL, ArtifactIntegrityError, verify_sha256
from mlops_assets.deployment import triton_gpu_config as gpu
from mlops_assets.training.model_artifact import INPUT_NAME, PROBABILITY_OUTPUT

SHA_FILE = "sha256"
Device = Literal["cpu", "gpu"]
DEVICES: tuple[Device, ...] = ("cpu", "gpu")


def check_device(device: str) -> Device:
    """``device`` if Triton can be given a repository for it; otherwise an error naming what is accepted."""
    if device not in DEVICES:
        raise ValueError(f"Triton device must be one of {DEVICES}, got {device!r}")
    return cast(Device, device)


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


QUEUE_DELAY_US = 0
"""Triton's dynamic batcher sends what is queued as soon as an instance is free, without waiting for more.

The gateway already sends the rows of concurrent requests together (``serving/coalescing.py``) and a
request queued behind a busy instance is batched anyway, so a delay only made a lone request wait it out
(200 us added about 0.2 ms to a batch-1 call measured directly against Triton on these machines).
"""


def render_config(
    name: str,
    *,
    device: str = "cpu",
    versions: list[int] | None = None,
    max_batch_size: int = 1024,
    instances: int | None = None,
    queue_delay_us: int = QUEUE_DELAY_US,
) -> str:
    """config.pbtxt text for the churn model contract (input X [18], output probabilities [2]).

    ``instances`` defaults to one CPU instance, or ``GPU_INSTANCES`` on the shared GPU.
    """
    if check_device(device) == "gpu":
        backend = f'backend: "{gpu.BACKEND}"'
        group = gpu.gpu_instance_group(instances or gpu.GPU_INSTANCES)
    else:
        backend = 'backend: "python"'
        group = f"{{ kind: KIND_CPU count: {instances or 1} }}"
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
instance_group [ {group} ]
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


def _add_missing(target: Path, files: dict[str, bytes]) -> None:
    """Give an existing version directory the files it lacks, each renamed into place whole."""
    for name, data in files.items():
        path = target / name
        if not path.exists():
            tmp = target / f".{name}.{uuid.uuid4().hex[:8]}"
            tmp.write_bytes(data)
            os.replace(tmp, path)


def write_model_version(
    repo: Path, version: int, onnx_bytes: bytes, expected_sha256: str, *, name: str = CHURN_MODEL, device: str = "cpu"
) -> Path:
    """Add ``version`` for ``device`` after checking its hash.

    An existing identical version is kept and only gains the files ``device`` needs (``model.py`` on CPU).
    """
    verify_sha256(onnx_bytes, expected_sha256, f"{name} v{version}")
    files = {"model.onnx": onnx_bytes, SHA_FILE: expected_sha256.encode()}
    if check_device(device) == "cpu":
        files["model.py"] = PYTHON_MODEL.format(input=INPUT_NAME, output=PROBABILITY_OUTPUT).encode()
    target = Path(repo) / name / str(version)
    if target.exists():
        recorded = (target / SHA_FILE).read_text().strip() if (target / SHA_FILE).exists() else ""
        if recorded != expected_sha256:
            raise ArtifactIntegrityError(f"{target} holds a different artifact ({recorded[:12]}); refusing to replace")
        _add_missing(target, files)
    else:
        _atomic_dir(target, files)
    write_config(repo, name, device=device)
    return target


def write_config(repo: Path, name: str = CHURN_MODEL, **options: object) -> Path:
    """Render ``name``'s config.pbtxt (``render_config`` options) and swap it in whole."""
    path = Path(repo) / name / "config.pbtxt"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render_config(name, **options))  # type: ignore[arg-type]
    os.replace(tmp, path)
    return path


def write_baseline_model(repo: Path, name: str = BASELINE_MODEL, *, device: str = "cpu") -> Path:
    """The fallback model, always present as version 1: numpy ``model.py`` on CPU, an ONNX graph on GPU."""
    if check_device(device) == "gpu":
        files = {"model.onnx": gpu.baseline_onnx_bytes()}
    else:
        source = BASELINE_PY.format(
            intercept=baseline.INTERCEPT, terms=gpu.baseline_terms(), input=INPUT_NAME, output=PROBABILITY_OUTPUT
        )
        files = {"model.py": source.encode()}
    target = Path(repo) / name / "1"
    if target.exists():
        shutil.rmtree(target)
    _atomic_dir(target, files)
    write_config(repo, name, device=device, instances=1)
    return target
