"""ROC and calibration plots as PNG bytes, for asset metadata and MLflow artifacts."""

from __future__ import annotations

import io

import numpy as np


def _figure():  # noqa: ANN202 - matplotlib types
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(4.2, 3.6), dpi=90)


def _png(fig) -> bytes:  # noqa: ANN001
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def roc_png(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """One ROC curve per named model: ``{"challenger": (labels, scores), ...}``."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = _figure()
    for name, (labels, scores) in curves.items():
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, out-of-time test")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def calibration_png(curves: dict[str, tuple[np.ndarray, np.ndarray]], bins: int = 10) -> bytes:
    """Reliability diagram: mean predicted probability vs observed churn rate per bin."""
    from sklearn.calibration import calibration_curve

    fig, ax = _figure()
    for name, (labels, scores) in curves.items():
        observed, predicted = calibration_curve(labels, scores, n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, marker="o", label=name)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate", title="Calibration, out-of-time test")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)
