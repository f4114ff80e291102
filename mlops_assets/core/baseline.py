"""The fallback model: a tiny hand-set logistic rule that needs nothing but numpy.

It is deliberately simple (it cannot break when a trained model does) and is the last link of the
fallback chain: Triton serves it as ``churn_baseline``, and the gateway keeps the same rule in-process for
when Triton itself is unreachable. Scores are rough but calibrated to the base churn rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_assets.core import domain as d

if TYPE_CHECKING:  # numpy loads on first use: the Triton repository writer reads the constants at import
    import numpy as np

INTERCEPT = -1.9
COEFFICIENTS: dict[str, float] = {
    "failed_payments_90d": 0.6,
    "support_tickets_30d": 0.4,
    "tenure_months": -0.03,
    "satisfaction_score": -0.2,
}
FILL: dict[str, float] = {"satisfaction_score": 6.5}


def baseline_scores(matrix: np.ndarray) -> np.ndarray:
    """P(churn) from the model-input matrix (columns in ``domain.MODEL_FEATURES`` order)."""
    import numpy as np

    logit = np.full(matrix.shape[0], INTERCEPT, dtype=np.float64)
    for name, weight in COEFFICIENTS.items():
        column = matrix[:, d.MODEL_FEATURES.index(name)].astype(np.float64)
        column = np.where(np.isnan(column), FILL.get(name, 0.0), column)
        if name == "satisfaction_score":
            column = column - FILL[name]
        logit += weight * column
    return (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
