"""What Triton's onnxruntime backend needs to serve the churn models on a GPU (no Dagster here).

On a GPU node the registry's ONNX bytes are served as they are, by Triton's onnxruntime backend: no
Python wrapper, no extra process per instance. Every model (champion, challenger, baseline) pins its
instances to GPU 0, so the models of one Triton replica share one card rather than each asking for its
own; ``deploy/k8s/triton.yaml`` gives each replica exactly one GPU.

The baseline fallback is exported as a small ONNX graph (the same logistic rule as ``core/baseline.py``),
so it runs on the same backend and the GPU profile needs no Python backend at all.

onnxruntime places each node on the CUDA provider when it has a CUDA kernel and on its CPU provider
otherwise, inside the same Triton instance. The baseline's operators all have CUDA kernels; the trained
model's ``TreeEnsembleClassifier`` (``ai.onnx.ml``) has none, so its trees are evaluated by onnxruntime's
CPU kernels even in a ``KIND_GPU`` instance. The model is still served, batched and scored identically;
moving the trees onto the card itself would need a tensor form of them (e.g. Triton's FIL backend).
"""

from __future__ import annotations

from collections.abc import Sequence

from mlops_assets.core import baseline
from mlops_assets.core import domain as d
from mlops_assets.training.model_artifact import INPUT_NAME, PROBABILITY_OUTPUT

BACKEND = "onnxruntime"
GPU_INSTANCES = 2
"""Instances of the churn model per GPU: one can run while the other's batch is being assembled."""
SHARED_GPUS: tuple[int, ...] = (0,)
BASELINE_OPSET = 17
BASELINE_IR_VERSION = 8
"""IR 8 (opset 17): loadable by the onnxruntime in Triton 24.10 (1.19) as well as the one in this venv."""


def gpu_instance_group(count: int, gpus: Sequence[int] = SHARED_GPUS) -> str:
    """The ``instance_group`` entry that puts ``count`` instances on the shared card(s)."""
    if count < 1:
        raise ValueError(f"a GPU instance group needs at least one instance, got count={count}")
    return f"{{ kind: KIND_GPU count: {count} gpus: [ {', '.join(map(str, gpus))} ] }}"


def baseline_terms() -> list[tuple[int, float, float, float]]:
    """The baseline rule as (column index, weight, fill for missing, centre), for its Python and ONNX forms."""
    return [
        (
            d.MODEL_FEATURES.index(column),
            weight,
            baseline.FILL.get(column, 0.0),
            baseline.FILL[column] if column == "satisfaction_score" else 0.0,
        )
        for column, weight in baseline.COEFFICIENTS.items()
    ]


def baseline_onnx_bytes() -> bytes:
    """The baseline as an ONNX graph with the churn contract: ``X`` float32 [batch, 18] -> ``probabilities``.

    Computed in float64 and cast to float32 at the end, as the Python backend's version does, so both
    fallbacks give the same scores.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    indices, weights, fills, centres = (list(column) for column in zip(*baseline_terms(), strict=True))
    constants = {
        "indices": np.array(indices, dtype=np.int64),
        "fills": np.array(fills, dtype=np.float64),
        "centres": np.array(centres, dtype=np.float64),
        "weights": np.array(weights, dtype=np.float64).reshape(-1, 1),
        "intercept": np.array(baseline.INTERCEPT, dtype=np.float64),
        "one": np.array(1.0, dtype=np.float32),
    }
    nodes = [
        helper.make_node("Gather", [INPUT_NAME, "indices"], ["columns32"], axis=1),
        helper.make_node("Cast", ["columns32"], ["columns"], to=TensorProto.DOUBLE),
        helper.make_node("IsNaN", ["columns"], ["missing"]),
        helper.make_node("Where", ["missing", "fills", "columns"], ["filled"]),
        helper.make_node("Sub", ["filled", "centres"], ["centred"]),
        helper.make_node("MatMul", ["centred", "weights"], ["weighted"]),
        helper.make_node("Add", ["weighted", "intercept"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["churn64"]),
        helper.make_node("Cast", ["churn64"], ["churn"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["one", "churn"], ["stay"]),
        helper.make_node("Concat", ["stay", "churn"], [PROBABILITY_OUTPUT], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "churn_baseline",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, len(d.MODEL_FEATURES)])],
        [helper.make_tensor_value_info(PROBABILITY_OUTPUT, TensorProto.FLOAT, [None, 2])],
        initializer=[numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", BASELINE_OPSET)],
        producer_name="mlops-churn-baseline",
        ir_version=BASELINE_IR_VERSION,
    )
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
