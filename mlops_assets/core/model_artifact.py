"""Train the churn classifier and turn it into a portable ONNX artifact (never a pickle).

The ONNX graph is what evaluation scores, what the registry stores and what Triton serves, so the model
that was measured is byte for byte the model that answers requests. Its contract: input ``X``
(float32, ``[batch, len(domain.MODEL_FEATURES)]``), outputs ``label`` (int64) and ``probabilities``
(float32, ``[batch, 2]``).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlops_assets.core import domain as d

INPUT_NAME = "X"
PROBABILITY_OUTPUT = "probabilities"
ARTIFACT_FORMAT = "onnx"
ONNX_OPSET = 17


@dataclass(frozen=True)
class Hyperparameters:
    """What a training run may vary; recorded with every run so it can be reproduced."""

    learning_rate: float = 0.05
    max_iter: int = 100
    max_leaf_nodes: int = 15
    l2_regularization: float = 0.0
    seed: int = 42


def train(features: np.ndarray, labels: np.ndarray, params: Hyperparameters):  # noqa: ANN201 - sklearn type
    """Fit a HistGradientBoosting classifier; missing values are handled natively by the trees.

    Early stopping holds out 10% of the training rows chosen by ``seed``, so the seed genuinely shapes the
    model (and the same seed reproduces it bit for bit).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        learning_rate=params.learning_rate,
        max_iter=params.max_iter,
        max_leaf_nodes=params.max_leaf_nodes,
        l2_regularization=params.l2_regularization,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=params.seed,
    )
    return model.fit(features, labels)


def to_onnx_bytes(model: object) -> bytes:
    """Serialise the fitted model to ONNX with probabilities as a plain tensor (no ZipMap)."""
    from skl2onnx import to_onnx

    sample = np.zeros((1, len(d.MODEL_FEATURES)), dtype=np.float32)
    with warnings.catch_warnings():
        # skl2onnx 1.20 passes booleans where onnx 1.23 expects ints; not ours to fix, and harmless
        warnings.filterwarnings("ignore", message="Field onnx.AttributeProto.ints", category=DeprecationWarning)
        graph = to_onnx(
            model,
            sample,
            options={id(model): {"zipmap": False}},
            target_opset={"": ONNX_OPSET, "ai.onnx.ml": 3},
            naming=lambda name, _: name,
        )
    graph.graph.input[0].name = INPUT_NAME
    for node in graph.graph.node:
        node.input[:] = [INPUT_NAME if i == "X" else i for i in node.input]
    graph.producer_name = "mlops-churn"
    graph.doc_string = f"features: {','.join(d.MODEL_FEATURES)}"
    return graph.SerializeToString()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class OnnxScorer:
    """Score feature matrices with an ONNX artifact in-process (the reference Triton must match)."""

    def __init__(self, model_bytes: bytes) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Return P(churn) per row as float32."""
        matrix = np.ascontiguousarray(features, dtype=np.float32)
        return self._session.run([PROBABILITY_OUTPUT], {INPUT_NAME: matrix})[0][:, 1]
