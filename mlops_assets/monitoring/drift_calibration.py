"""One column's reference profile and the calibration of its effect-size threshold.

Calibration works on arrays, never on frames: the calibration rows are one index array shared by every
column; a numeric column is sorted once and each chunk or random draw is a boolean mask over it (its
Wasserstein distance to the rest is one cumulative sum); a categorical column is factorized once and each
draw's counts are one ``np.bincount``. ``drift_profile`` assembles these columns into a ``ReferenceProfile``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from mlops_assets.monitoring.column_values import as_float, finite_only, is_numeric
from mlops_assets.monitoring.drift import (
    EPSILON,
    ColumnProfile,
    DriftInputError,
    category_codes,
    code_counts,
    compared_cells,
    subset_wasserstein,
)

CHUNKS = 10
NOISE_DRAWS = 30


def column_profile(
    series: pd.Series, column: str, rows: np.ndarray, max_sample: int, rng: np.random.Generator
) -> ColumnProfile:
    """One column's profile and calibration; ``rows`` are the calibration rows, shared by every column."""
    if is_numeric(series):
        return _numeric_profile(as_float(series, column), column, rows, max_sample, rng)
    codes, labels = category_codes(series, column)
    present = codes >= 0
    if not present.any():
        raise DriftInputError(f"reference column {column!r} has no non-missing values")
    counts = code_counts(codes, len(labels))
    seen = counts > 0
    profile = ColumnProfile(
        "categorical",
        int(counts.sum()),
        float(1.0 - present.mean()),
        counts=dict(zip(labels[seen], counts[seen].tolist(), strict=True)),
    )
    sampled = codes[rows]
    profile.natural_effect, profile.noise_scale = _calibrate_categories(sampled[sampled >= 0], rng)
    return profile


def _numeric_profile(
    values: np.ndarray, column: str, rows: np.ndarray, max_sample: int, rng: np.random.Generator
) -> ColumnProfile:
    missing = np.isnan(values)
    if missing.all():
        raise DriftInputError(f"reference column {column!r} has no non-missing values")
    present = values[~missing] if missing.any() else values
    low, high = float(present.min()), float(present.max())
    finite, nonfinite = finite_only(present)
    null_rate = float(missing.mean())
    if len(finite) == 0:
        return ColumnProfile("numeric", 0, null_rate, low=low, high=high, nonfinite=nonfinite)
    sample = np.sort(rng.choice(finite, max_sample, replace=False) if len(finite) > max_sample else finite)
    q1, q3 = np.percentile(sample if len(sample) == len(finite) else finite, [25, 75])
    spread = float(q3 - q1) or float(finite.std()) or 1.0
    profile = ColumnProfile("numeric", len(finite), null_rate, sample, spread, low, high, nonfinite=nonfinite)
    sampled = values[rows]
    profile.natural_effect, profile.noise_scale = _calibrate_numbers(sampled[np.isfinite(sampled)], spread, rng)
    return profile


def _subsets(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """How ``n`` calibration rows are split: ``CHUNKS`` contiguous chunks and ``NOISE_DRAWS`` random fifths.

    Returns (each row's chunk, the rows of each random fifth as a (draws, size) index array, the effective
    size of a fifth against the rest). The calibration rows are a random sample in random order, so a
    chunk is a random subset too.
    """
    chunk_of = np.repeat(np.arange(CHUNKS), np.diff(np.linspace(0, n, CHUNKS + 1, dtype=int)))
    size = max(n // 5, 10)
    draws = np.stack([rng.choice(n, size, replace=False) for _ in range(NOISE_DRAWS)])
    return chunk_of, draws, size * (n - size) / n


def _summarise(effects: np.ndarray, n_eff: float) -> tuple[float, float]:
    """(largest chunk-vs-rest effect, 95th percentile of the random draws scaled by sqrt of their size)."""
    return float(effects[:CHUNKS].max()), float(np.percentile(effects[CHUNKS:], 95) * np.sqrt(n_eff))


def _calibrate_numbers(values: np.ndarray, spread: float, rng: np.random.Generator) -> tuple[float, float]:
    """(natural chunk-vs-rest effect, sampling-noise scale) of a numeric column's finite calibration values.

    Natural: the largest effect of a chunk against the rest of the reference. Noise: the 95th percentile of
    random subsets against the rest, times the square root of their effective size, so the noise threshold
    for a window of ``n`` rows is ``noise_scale / sqrt(n_eff)``. Each subset is a mask over the values
    sorted once.
    """
    n = len(values)
    if n < 2 * CHUNKS:
        return 0.0, 0.0
    order = np.argsort(values, kind="stable")
    chunk_of, draws, n_eff = _subsets(n, rng)
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    inside = np.zeros((CHUNKS + NOISE_DRAWS, n), dtype=bool)
    inside[:CHUNKS] = chunk_of[order] == np.arange(CHUNKS)[:, None]
    inside[np.arange(CHUNKS, CHUNKS + NOISE_DRAWS)[:, None], rank[draws]] = True
    return _summarise(subset_wasserstein(values[order], inside) / max(spread, EPSILON), n_eff)


def _calibrate_categories(codes: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """The same two terms for a categorical column, from its calibration rows' category codes.

    Each chunk's and draw's category counts are one ``np.bincount`` over (subset, code) pairs.
    """
    n = len(codes)
    if n < 2 * CHUNKS:
        return 0.0, 0.0
    _, codes = np.unique(codes, return_inverse=True)  # only the categories these rows hold
    k = int(codes.max()) + 1
    chunk_of, draws, n_eff = _subsets(n, rng)
    subset = np.concatenate([chunk_of, np.repeat(np.arange(CHUNKS, CHUNKS + NOISE_DRAWS), draws.shape[1])])
    code = np.concatenate([codes, codes[draws.ravel()]])
    inside = np.bincount(subset * k + code, minlength=(CHUNKS + NOISE_DRAWS) * k).reshape(-1, k)
    reference, current = compared_cells(np.bincount(codes, minlength=k) - inside, inside)
    return _summarise(jensenshannon(reference, current, axis=1, base=2), n_eff)
