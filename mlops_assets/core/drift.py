"""The drift engine: per-column tests, calibrated effect-size thresholds, a corrected dataset verdict.

A column drifts only when the difference is both *significant* (Benjamini-Hochberg adjusted p-value below
``alpha``) and *large* (effect size above a threshold calibrated on the reference itself). Significance
alone alarms on trivial shifts once windows hold a million rows; effect size alone misses real shifts in
small windows or alarms on noise. The threshold is the larger of
- the reference's own chunk-to-chunk variation (chunks of the reference compared with the *rest* of the
  reference, never with themselves): what "a normal different day" looks like, and
- the sampling noise expected for the current window's size, scaled from the same calibration.

Numeric columns: two-sample KS (statistic and p-value as ``scipy.stats.ks_2samp``) with the Wasserstein
distance divided by the reference's interquartile range as effect size. Categorical columns: chi-square
test of homogeneity on the reference-vs-current contingency table (as ``scipy.stats.chi2_contingency``;
unseen categories get their own column) with the Jensen-Shannon distance as effect size and PSI reported.
No Dagster here: the CLI, the assets and the gateway share this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPSILON = 1e-6
MAX_AUTO_N = 10_000  # scipy's ks_2samp switches from exact to asymptotic p-values above this


class DriftInputError(ValueError):
    """The data cannot be compared; the message names the column and the problem."""


@dataclass
class ColumnDrift:
    """One column's verdict with every number behind it."""

    column: str
    kind: str
    test: str
    statistic: float
    p_value: float
    p_value_adjusted: float
    effect_size: float
    effect_size_name: str
    threshold: float
    drifted: bool
    rows_reference: int
    rows_current: int
    psi: float | None = None


@dataclass
class DriftReport:
    """The dataset verdict and its columns."""

    columns: list[ColumnDrift]
    alpha: float

    @property
    def drifted(self) -> bool:
        return any(c.drifted for c in self.columns)

    @property
    def share_drifted(self) -> float:
        return sum(c.drifted for c in self.columns) / len(self.columns) if self.columns else 0.0

    def to_dict(self) -> dict:
        return {
            "dataset": {
                "drifted": self.drifted,
                "share_drifted": round(self.share_drifted, 4),
                "drifted_columns": [c.column for c in self.columns if c.drifted],
                "alpha": self.alpha,
                "correction": "benjamini-hochberg",
                "columns_tested": len(self.columns),
            },
            "columns": [asdict(c) for c in self.columns],
        }

    def to_markdown(self) -> str:
        verdict = "DRIFT" if self.drifted else "no drift"
        lines = [
            f"**{verdict}**: {sum(c.drifted for c in self.columns)} of {len(self.columns)} columns drifted "
            f"(alpha {self.alpha}, Benjamini-Hochberg)",
            "",
            "| column | kind | test | statistic | p (adj.) | effect size | threshold | drifted |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in sorted(self.columns, key=lambda c: (not c.drifted, -c.effect_size / max(c.threshold, EPSILON))):
            lines.append(
                f"| {c.column} | {c.kind} | {c.test} | {c.statistic:.4f} | {c.p_value_adjusted:.3g} | "
                f"{c.effect_size:.4f} ({c.effect_size_name}) | {c.threshold:.4f} | {'yes' if c.drifted else ''} |"
            )
        return "\n".join(lines)


def ks_test(reference_sorted: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sided two-sample KS equal to ``scipy.stats.ks_2samp`` (exact below 10k rows, else asymptotic).

    Above scipy's exact limit the statistic is computed on the pre-sorted reference with searchsorted and
    the p-value with scipy's own asymptotic distribution (``kstwo``), as ``ks_2samp`` does.
    """
    n1, n2 = len(reference_sorted), len(current)
    if max(n1, n2) <= MAX_AUTO_N:
        result = stats.ks_2samp(reference_sorted, current)
        return float(result.statistic), float(result.pvalue)
    current_sorted = np.sort(current)
    points = np.concatenate([reference_sorted, current_sorted])
    diff = np.searchsorted(reference_sorted, points, side="right") / n1
    diff -= np.searchsorted(current_sorted, points, side="right") / n2
    d = float(max(diff.max(), np.clip(-diff.min(), 0, 1)))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def chi2_test(reference_counts: dict[str, int], current_counts: dict[str, int]) -> tuple[float, float, list[str]]:
    """Chi-square homogeneity test on the 2xK table; categories absent from both samples are dropped."""
    categories = sorted(set(reference_counts) | set(current_counts))
    table = np.array([[reference_counts.get(k, 0) for k in categories], [current_counts.get(k, 0) for k in categories]])
    keep = table.sum(axis=0) > 0
    table = table[:, keep]
    if table.shape[1] < 2:
        return 0.0, 1.0, categories
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue), categories


def _proportions(counts: dict[str, int], categories: list[str]) -> np.ndarray:
    values = np.array([counts.get(k, 0) for k in categories], dtype=np.float64)
    return values / max(values.sum(), 1.0)


def psi(p: np.ndarray, q: np.ndarray) -> float:
    """Population stability index between two proportion vectors (epsilon-smoothed)."""
    p, q = p + EPSILON, q + EPSILON
    return float(np.sum((q - p) * np.log(q / p)))


def numeric_effect(reference_sample: np.ndarray, current: np.ndarray, spread: float) -> float:
    """Wasserstein distance in units of the reference's interquartile range."""
    return float(stats.wasserstein_distance(reference_sample, current) / max(spread, EPSILON))


def categorical_effect(reference_counts: dict[str, int], current_counts: dict[str, int]) -> float:
    categories = sorted(set(reference_counts) | set(current_counts))
    return float(
        jensenshannon(_proportions(reference_counts, categories), _proportions(current_counts, categories), base=2)
    )


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.dropna().astype(str).value_counts().items()}


@dataclass
class ColumnProfile:
    """What the reference knows about one column, enough to test a window without the original rows."""

    kind: str
    rows: int
    null_rate: float
    sample: list[float] = field(default_factory=list)
    spread: float = 1.0
    low: float | None = None
    high: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    natural_effect: float = 0.0
    noise_scale: float = 0.0

    def threshold(self, current_rows: int) -> float:
        """Natural chunk-to-chunk variation, or the sampling noise at this window size if larger."""
        n_eff = current_rows * self.rows / max(current_rows + self.rows, 1)
        return max(self.natural_effect, self.noise_scale / np.sqrt(max(n_eff, 1.0)))
