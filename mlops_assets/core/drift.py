"""The drift engine: per-column tests, calibrated effect-size thresholds, a corrected dataset verdict.

A column drifts only when the difference is both *significant* (Benjamini-Hochberg adjusted p-value below
``alpha``) and *large* (effect size above a threshold calibrated on the reference itself). Significance
alone alarms on trivial shifts once windows hold a million rows; effect size alone misses real shifts in
small windows or alarms on noise. The threshold is the larger of
- the reference's own chunk-to-chunk variation (chunks of the reference compared with the *rest* of the
  reference, never with themselves): what "a normal different day" looks like, and
- the sampling noise expected for the current window's size, scaled from the same calibration.

Numeric columns: two-sample KS (statistic and p-value as ``scipy.stats.ks_2samp``) with the Wasserstein
distance divided by the reference's interquartile range as effect size, both on the finite values; +-inf
values are counted and reported, never averaged into a NaN. Categorical columns: chi-square test of
homogeneity (as ``scipy.stats.chi2_contingency``) with the Jensen-Shannon distance as effect size and PSI
reported, on cells that keep the test valid at any cardinality (see ``CategoryCells``); the share of current
rows whose category the reference never saw is reported beside the reference's own rate of new values.
A column that cannot be tested (no finite values; a reference of identifiers) is reported as untestable
with the reason, never as "not drifted". No Dagster here: the CLI, the assets and the gateway share this
module.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPSILON = 1e-6
MAX_AUTO_N = 10_000  # scipy's ks_2samp switches from exact to asymptotic p-values above this
MIN_EXPECTED = 5  # chi-square's validity rule: a compared cell expects at least this many rows in each window


class DriftInputError(ValueError):
    """The data cannot be compared; the message names the column and the problem."""


@dataclass
class ColumnDrift:
    """One column's verdict with every number behind it.

    ``rows_*`` count the values tested (finite numbers, non-missing categories); ``nonfinite_*`` the +-inf
    left out of a numeric column; ``unseen_share`` the share of current rows whose category the reference
    never saw, and ``unseen_share_expected`` the share a window from the reference's own distribution would
    show (Good-Turing: the reference rows whose category occurs once).
    """

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
    nonfinite_reference: int | None = None
    nonfinite_current: int | None = None
    unseen_share: float | None = None
    unseen_share_expected: float | None = None


@dataclass
class UntestableColumn:
    """A column no test could be run on, and why: neither drifted nor "not drifted"."""

    column: str
    kind: str
    reason: str
    rows_reference: int
    rows_current: int
    nonfinite_reference: int | None = None
    nonfinite_current: int | None = None
    unseen_share: float | None = None


def _json_safe(value: object) -> object:
    """NaN and +-inf become null: the report is read by strict JSON parsers, not only by Python."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


@dataclass
class DriftReport:
    """The dataset verdict, its tested columns and the columns that could not be tested."""

    columns: list[ColumnDrift]
    alpha: float
    untestable: list[UntestableColumn] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return any(c.drifted for c in self.columns)

    @property
    def share_drifted(self) -> float:
        return sum(c.drifted for c in self.columns) / len(self.columns) if self.columns else 0.0

    def to_dict(self) -> dict:
        return _json_safe(
            {
                "dataset": {
                    "drifted": self.drifted,
                    "share_drifted": round(self.share_drifted, 4),
                    "drifted_columns": [c.column for c in self.columns if c.drifted],
                    "untestable_columns": [c.column for c in self.untestable],
                    "alpha": self.alpha,
                    "correction": "benjamini-hochberg",
                    "columns_tested": len(self.columns),
                },
                "columns": [asdict(c) for c in self.columns],
                "untestable": [asdict(c) for c in self.untestable],
            }
        )

    def to_markdown(self) -> str:
        verdict = "DRIFT" if self.drifted else "no drift"
        lines = [
            f"**{verdict}**: {sum(c.drifted for c in self.columns)} of {len(self.columns)} columns drifted "
            f"(alpha {self.alpha}, Benjamini-Hochberg)"
            + (f"; **{len(self.untestable)} not tested**" if self.untestable else ""),
            "",
            "| column | kind | test | statistic | p (adj.) | effect size | threshold | drifted | notes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in sorted(self.columns, key=lambda c: (not c.drifted, -c.effect_size / max(c.threshold, EPSILON))):
            lines.append(
                f"| {c.column} | {c.kind} | {c.test} | {c.statistic:.4f} | {c.p_value_adjusted:.3g} | "
                f"{c.effect_size:.4f} ({c.effect_size_name}) | {c.threshold:.4f} | {'yes' if c.drifted else ''} | "
                f"{_notes(c)} |"
            )
        if self.untestable:
            lines += ["", "| not tested | kind | reason |", "|---|---|---|"]
            lines += [f"| {c.column} | {c.kind} | {c.reason} |" for c in self.untestable]
        return "\n".join(lines)


def _notes(c: ColumnDrift) -> str:
    notes = []
    if c.nonfinite_reference or c.nonfinite_current:
        notes.append(f"+-inf left out: {c.nonfinite_reference} reference, {c.nonfinite_current} current")
    if c.unseen_share:
        notes.append(f"unseen categories {c.unseen_share:.1%} (reference's own rate {c.unseen_share_expected:.1%})")
    return "; ".join(notes)


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


def chi2_table(table: np.ndarray) -> tuple[float, float]:
    """Chi-square homogeneity test on a 2xK table of counts; categories empty in both rows are dropped."""
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def chi2_test(reference_counts: dict[str, int], current_counts: dict[str, int]) -> tuple[float, float, list[str]]:
    """Chi-square homogeneity test on the full 2xK table, one cell per category (unseen ones included)."""
    categories = sorted(set(reference_counts) | set(current_counts))
    table = np.array([[reference_counts.get(k, 0) for k in categories], [current_counts.get(k, 0) for k in categories]])
    return (*chi2_table(table), categories)


def category_counts(values: pd.Series) -> pd.Series:
    """Rows per category, labelled by the category's text as the profile stores it.

    Counted before the labels are turned into text, so a million rows are never a million strings.
    """
    try:
        counts = values.value_counts(dropna=True)
    except TypeError:  # unhashable cells (lists, dicts) are compared by their text
        counts = values.dropna().astype(str).value_counts()
    counts = counts[counts > 0]
    counts.index = counts.index.astype(str)
    return counts if counts.index.is_unique else counts.groupby(level=0, sort=False).sum()


@dataclass(frozen=True)
class CategoryCells:
    """The reference and current counts a categorical column is compared on, cell by cell.

    One cell per category frequent enough for chi-square (expecting ``MIN_EXPECTED`` rows in the smaller
    window were both one distribution), then "other" (rarer categories the reference has seen), then
    "unseen" (categories new to the reference). One-row cells are where the old engine broke: chi-square's
    p-value means nothing there (100k identifiers against 100k others: p 0.5) and Jensen-Shannon measures
    sparsity, not change (a chunk of an identifier column against the rest is at distance 1, so the
    calibrated threshold became 1 and nothing could exceed it). The reference's "unseen" count is its rows
    whose category occurs once: left out, each would be new to the rest (leave-one-out, the Good-Turing
    estimate of how often a window from the reference's own distribution shows new categories). A window
    whose unseen share is far above that moves mass into the "unseen" cell, which chi-square and
    Jensen-Shannon then see, at any cardinality.
    """

    reference: np.ndarray
    current: np.ndarray
    unseen_share: float
    unseen_share_expected: float

    @classmethod
    def of(cls, reference: pd.Series, current: pd.Series) -> CategoryCells:
        """Cells from two ``category_counts``."""
        ref, cur = reference.align(current, join="outer", fill_value=0)
        ref_counts, cur_counts = ref.to_numpy(np.float64), cur.to_numpy(np.float64)
        n_ref, n_cur = ref_counts.sum(), cur_counts.sum()
        seen, once = ref_counts > 0, ref_counts == 1
        ref_rest = np.where(once, 0.0, ref_counts)
        keep = seen & ((ref_rest + cur_counts) * min(n_ref, n_cur) / max(n_ref + n_cur, 1.0) >= MIN_EXPECTED)
        other = seen & ~keep
        unseen_ref, unseen_cur = ref_counts[once].sum(), cur_counts[~seen].sum()
        return cls(
            np.append(ref_rest[keep], [ref_rest[other].sum(), unseen_ref]),
            np.append(cur_counts[keep], [cur_counts[other].sum(), unseen_cur]),
            float(unseen_cur / max(n_cur, 1.0)),
            float(unseen_ref / max(n_ref, 1.0)),
        )

    def table(self) -> np.ndarray:
        return np.vstack([self.reference, self.current])

    def noise(self, draws: int = 40, seed: int = 0) -> float:
        """The Jensen-Shannon distance sampling alone reaches (95th percentile) over these cells and rows.

        Both windows are redrawn from the pooled proportions, as if there were no drift. The calibrated noise
        term answers the same question on the calibration's cells; a high-cardinality column compared at
        full size has far more cells, where noise alone puts the distance at 0.2 or more.
        """
        n_ref, n_cur = int(self.reference.sum()), int(self.current.sum())
        pooled = proportions(self.reference + self.current)
        rng = np.random.default_rng(seed)
        ref, cur = rng.multinomial(n_ref, pooled, size=draws), rng.multinomial(n_cur, pooled, size=draws)
        distances = jensenshannon(ref / max(n_ref, 1), cur / max(n_cur, 1), axis=1, base=2)
        return float(np.percentile(np.nan_to_num(distances), 95))


def psi(p: np.ndarray, q: np.ndarray) -> float:
    """Population stability index between two proportion vectors (epsilon-smoothed)."""
    p, q = p + EPSILON, q + EPSILON
    return float(np.sum((q - p) * np.log(q / p)))


def proportions(counts: np.ndarray) -> np.ndarray:
    return counts / max(counts.sum(), 1.0)


def numeric_effect(reference_sample: np.ndarray, current: np.ndarray, spread: float) -> float:
    """Wasserstein distance in units of the reference's interquartile range."""
    return float(stats.wasserstein_distance(reference_sample, current) / max(spread, EPSILON))


def categorical_effect(cells: CategoryCells) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between the reference's and the window's cells."""
    return float(jensenshannon(proportions(cells.reference), proportions(cells.current), base=2))


@dataclass
class ColumnProfile:
    """What the reference knows about one column, enough to test a window without the original rows.

    Numeric: ``rows`` counts the finite values the sample, spread and calibration come from; ``nonfinite``
    the +-inf beside them; ``low``/``high`` the observed range, infinities included.
    """

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
    nonfinite: int = 0

    def threshold(self, current_rows: int) -> float:
        """Natural chunk-to-chunk variation, or the sampling noise at this window size if larger."""
        n_eff = current_rows * self.rows / max(current_rows + self.rows, 1)
        return max(self.natural_effect, self.noise_scale / np.sqrt(max(n_eff, 1.0)))
