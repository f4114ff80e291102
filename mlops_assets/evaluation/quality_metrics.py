"""Model quality, segment and fairness metrics, and inference latency (pure functions over arrays)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd


def quality(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """ROC AUC, log loss, Brier score and accuracy at ``threshold`` (AUC is NaN for a single class)."""
    from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

    labels = np.asarray(labels)
    scores = np.clip(np.asarray(scores, dtype=np.float64), 1e-7, 1 - 1e-7)
    both = len(np.unique(labels)) == 2
    return {
        "roc_auc": float(roc_auc_score(labels, scores)) if both else float("nan"),
        "log_loss": float(log_loss(labels, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
        "accuracy": float(accuracy_score(labels, scores >= threshold)),
        "positive_rate": float(np.mean(scores >= threshold)),
        "rows": float(len(labels)),
    }


def by_segment(frame: pd.DataFrame, column: str, label: str, score: str) -> pd.DataFrame:
    """Quality per value of ``column`` (one row per segment)."""
    rows = []
    for value, part in frame.groupby(column, observed=True):
        rows.append({column: value, **quality(part[label].to_numpy(), part[score].to_numpy())})
    return pd.DataFrame(rows)


def fairness(frame: pd.DataFrame, column: str, label: str, score: str, threshold: float = 0.5) -> dict[str, float]:
    """Demographic parity difference and equal-opportunity difference across the groups of ``column``.

    Parity: max minus min of the predicted-positive rate. Equal opportunity: max minus min of the true
    positive rate (recall among actual churners). 0 is perfectly even; larger is less fair.
    """
    predicted = frame[score] >= threshold
    positive_rate = predicted.groupby(frame[column], observed=True).mean()
    churners = frame[label] == 1
    tpr = predicted[churners].groupby(frame.loc[churners, column], observed=True).mean()
    return {
        "demographic_parity_difference": float(positive_rate.max() - positive_rate.min()),
        "equal_opportunity_difference": float(tpr.max() - tpr.min()) if len(tpr) else float("nan"),
        "groups": float(len(positive_rate)),
    }


def latency_ms(predict: Callable[[np.ndarray], object], rows: np.ndarray, repeats: int = 300) -> dict[str, float]:
    """p50/p99 of single-row predictions in milliseconds (after a short warm-up)."""
    for i in range(20):
        predict(rows[i % len(rows) : i % len(rows) + 1])
    timings = np.empty(repeats)
    for i in range(repeats):
        row = rows[i % len(rows) : i % len(rows) + 1]
        start = time.perf_counter()
        predict(row)
        timings[i] = (time.perf_counter() - start) * 1000
    return {"latency_p50_ms": float(np.percentile(timings, 50)), "latency_p99_ms": float(np.percentile(timings, 99))}
