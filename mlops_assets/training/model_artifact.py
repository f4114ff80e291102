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
from typing import TYPE_CHECKING

from mlops_assets.core import domain as d

if TYPE_CHECKING:  # numpy loads on first use: the Triton repository writer imports the names below
    import numpy as np
    from mlflow.models import ModelSignature

INPUT_NAME = "X"
LABEL_OUTPUT = "label"
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


FIT_THREADS = 1
"""OpenMP threads a fit (or a tuning study) may use.

The trees are the same with any number (histograms are built per feature; measured: one and two threads give
byte-identical artifacts). On the shared two-core machines here, two OpenMP threads spin-waiting on each other
made a 180,000-row fit take 20-59 s instead of 5 s whenever another process was busy, as the daemon, the
gateway and other runs always are in the demo; one thread costs about 30% on an idle machine. Parallel
tuning trials (``tuning_parallelism``) run in threads of their own.
"""


def fit_threads():  # noqa: ANN201 - threadpoolctl's context manager
    """Limit OpenMP to ``FIT_THREADS`` in this process while the context is open (whichever thread fits)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=FIT_THREADS, user_api="openmp")


def classifier(params: Hyperparameters, **overrides: object):  # noqa: ANN201 - sklearn type
    """The one classifier tuning trials and the final fit both build, so the tuned model is the one shipped.

    A HistGradientBoosting classifier: missing values are handled natively by the trees. Early stopping holds
    out 10% of the training rows chosen by ``seed``, so the seed genuinely shapes the model (and the same seed
    reproduces it bit for bit). ``overrides`` are for the tuner's staged fits (``warm_start``).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    settings: dict[str, object] = {
        "learning_rate": params.learning_rate,
        "max_iter": params.max_iter,
        "max_leaf_nodes": params.max_leaf_nodes,
        "l2_regularization": params.l2_regularization,
        "early_stopping": True,
        "validation_fraction": 0.1,
        "n_iter_no_change": 15,
        "random_state": params.seed,
    }
    return HistGradientBoostingClassifier(**(settings | overrides))


def train(features: np.ndarray, labels: np.ndarray, params: Hyperparameters):  # noqa: ANN201 - sklearn type
    """Fit ``classifier(params)`` on every given row, with ``FIT_THREADS`` OpenMP threads."""
    with fit_threads():
        return classifier(params).fit(features, labels)


def to_onnx_bytes(model: object) -> bytes:
    """Serialise the fitted model to ONNX with probabilities as a plain tensor (no ZipMap)."""
    import numpy as np
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


def mlflow_signature() -> ModelSignature:
    """The ONNX contract as an MLflow signature: tensor ``X`` -> ``label`` and ``probabilities``.

    A tensor signature, not one column per feature: MLflow's ONNX pyfunc hands a DataFrame to the graph as
    one matrix and returns a DataFrame of the outputs, which fails for ``probabilities`` (two values per
    row), so a column signature would make the registered model unloadable for scoring. The columns of
    ``X`` are ``domain.MODEL_FEATURES`` in that order (``model_metadata`` names them in the MLmodel file).
    """
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, len(d.MODEL_FEATURES)), INPUT_NAME)]),
        outputs=Schema(
            [
                TensorSpec(np.dtype(np.int64), (-1,), LABEL_OUTPUT),
                TensorSpec(np.dtype(np.float32), (-1, 2), PROBABILITY_OUTPUT),
            ]
        ),
    )


def model_metadata(feature_service: str) -> dict[str, object]:
    """What the MLmodel file says about the input: its columns, where they come from, how they are encoded."""
    return {
        "input_columns": list(d.MODEL_FEATURES),
        "feature_service": feature_service,
        "encoding": "domain.encode: numbers as float32, categories as ordinal codes (unseen -> NaN), ratios derived",
        "score": f"{PROBABILITY_OUTPUT}[:, 1] = P(churn)",
    }


def input_example(features: np.ndarray, rows: int = 5) -> np.ndarray:
    """A few complete encoded rows (no NaN, which JSON cannot carry) to store beside the model."""
    import numpy as np

    complete = features[~np.isnan(features).any(axis=1)]
    return np.ascontiguousarray((complete if len(complete) else np.nan_to_num(features))[:rows], dtype=np.float32)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
        import numpy as np

        matrix = np.ascontiguousarray(features, dtype=np.float32)
        return self._session.run([PROBABILITY_OUTPUT], {INPUT_NAME: matrix})[0][:, 1]
