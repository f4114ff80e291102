"""Concept drift from delayed labels: has the champion got worse at its job.

Two detectors. A batch test: the current window's error rate (at the decision threshold) against the
reference window's, by Fisher's exact test (one-sided: "worse"), with the change in ROC AUC reported. A
sequential detector: Page-Hinkley over the per-row log loss in time order, which finds *when* the loss
started rising, useful when labels trickle in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass
class PerformanceDrop:
    """The batch verdict with its numbers."""

    reference_error: float
    current_error: float
    reference_auc: float
    current_auc: float
    p_value: float
    drifted: bool
    rows_reference: int
    rows_current: int

    def to_dict(self) -> dict:
        return asdict(self)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else float("nan")


def performance_drop(
    reference: tuple[np.ndarray, np.ndarray],
    current: tuple[np.ndarray, np.ndarray],
    alpha: float = 0.01,
    min_increase: float = 0.02,
    threshold: float = 0.5,
) -> PerformanceDrop:
    """``reference``/``current`` are (labels, scores); drift = significantly and materially more errors."""
    (ref_y, ref_s), (cur_y, cur_s) = reference, current
    if len(ref_y) == 0 or len(cur_y) == 0:
        raise ValueError("performance_drop needs labelled rows in both windows")
    ref_wrong = int(((ref_s >= threshold) != (ref_y == 1)).sum())
    cur_wrong = int(((cur_s >= threshold) != (cur_y == 1)).sum())
    table = [[cur_wrong, len(cur_y) - cur_wrong], [ref_wrong, len(ref_y) - ref_wrong]]
    p_value = float(stats.fisher_exact(table, alternative="greater").pvalue)
    ref_err, cur_err = ref_wrong / len(ref_y), cur_wrong / len(cur_y)
    return PerformanceDrop(
        ref_err,
        cur_err,
        _auc(ref_y, ref_s),
        _auc(cur_y, cur_s),
        p_value,
        bool(p_value < alpha and cur_err - ref_err >= min_increase),
        len(ref_y),
        len(cur_y),
    )


def log_loss_per_row(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    p = np.clip(scores.astype(np.float64), 1e-7, 1 - 1e-7)
    return -(labels * np.log(p) + (1 - labels) * np.log(1 - p))


def page_hinkley(values: np.ndarray, delta: float = 0.005, threshold: float = 50.0, burn_in: int = 30) -> int | None:
    """Index where the mean of ``values`` has risen (Page-Hinkley), or None if it never fires."""
    mean, cumulative, minimum = 0.0, 0.0, 0.0
    for i, value in enumerate(np.asarray(values, dtype=np.float64)):
        mean += (value - mean) / (i + 1)
        cumulative += value - mean - delta
        minimum = min(minimum, cumulative)
        if i >= burn_in and cumulative - minimum > threshold:
            return i
    return None
