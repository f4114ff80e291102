"""The reference profile: built once per model version, then every window is checked against it.

It keeps, per numeric column, a sorted sample (capped, 200k values by default), the interquartile range,
min/max and null rate; per categorical column, the category counts; and for both, the calibration of the
effect-size threshold (see ``drift``). Saved as one ``.npz`` file next to the model's other records, so a
check of a new day never reloads the training data.
"""

from __future__ import annotations

import io
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mlops_assets.core.drift import (
    ColumnDrift,
    ColumnProfile,
    DriftInputError,
    DriftReport,
    _counts,
    _proportions,
    categorical_effect,
    chi2_test,
    ks_test,
    numeric_effect,
    psi,
)
from resources import atomic

CALIBRATION_ROWS = 20_000
CHUNKS = 10
NOISE_DRAWS = 30
EFFECT_SAMPLE = 100_000


def _numeric(series: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        raise DriftInputError(f"column {column!r} is boolean; cast it to int or category first")
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        raise DriftInputError(f"column {column!r} mixes numbers and text, e.g. {series[bad].iloc[0]!r}")
    return values.dropna().to_numpy(dtype=np.float64)


def _reject_mixed(series: pd.Series, column: str) -> None:
    """An object column holding both numbers and text is ambiguous: say so rather than guess a kind."""
    values = series.dropna()
    kinds = {isinstance(v, str) for v in values if not isinstance(v, bool)}
    if len(kinds) == 2:
        example = next(v for v in values if not isinstance(v, str))
        raise DriftInputError(f"column {column!r} mixes numbers and text, e.g. {example!r} beside strings")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


class ReferenceProfile:
    """Per-column reference statistics and calibrated thresholds."""

    def __init__(self, columns: dict[str, ColumnProfile]) -> None:
        self.columns = columns

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, columns: list[str] | None = None, max_sample: int = 200_000, seed: int = 0
    ) -> ReferenceProfile:
        """Profile ``columns`` of ``frame`` (all by default); calibrate thresholds on the frame itself."""
        if frame.empty:
            raise DriftInputError("the reference is empty: nothing to compare against")
        chosen = list(columns or frame.columns)
        missing = [c for c in chosen if c not in frame.columns]
        if missing:
            raise DriftInputError(f"reference lacks columns {missing}")
        rng = np.random.default_rng(seed)
        calibration = frame.sample(n=min(len(frame), CALIBRATION_ROWS), random_state=seed)
        profiles = {}
        for column in chosen:
            series = frame[column]
            if series.notna().sum() == 0:
                raise DriftInputError(f"reference column {column!r} has no non-missing values")
            null_rate = float(series.isna().mean())
            if _is_numeric(series):
                values = _numeric(series, column)
                sample = np.sort(rng.choice(values, max_sample, replace=False) if len(values) > max_sample else values)
                q1, q3 = np.percentile(values, [25, 75])
                spread = float(q3 - q1) or float(values.std()) or 1.0
                profile = ColumnProfile(
                    "numeric", len(values), null_rate, sample.tolist(), spread, float(values.min()), float(values.max())
                )
            else:
                _reject_mixed(series, column)
                profile = ColumnProfile("categorical", int(series.notna().sum()), null_rate, counts=_counts(series))
            profile.natural_effect, profile.noise_scale = _calibrate(calibration[column], profile, rng)
            profiles[column] = profile
        return cls(profiles)

    def compare(self, current: pd.DataFrame, columns: list[str] | None = None, alpha: float = 0.01) -> DriftReport:
        """Test every profiled column present in ``current``; BH-adjust p-values across them."""
        if not 0 < alpha < 1:
            raise DriftInputError(f"alpha must be in (0, 1), got {alpha}")
        chosen = list(columns or [c for c in self.columns if c in current.columns])
        if not chosen:
            raise DriftInputError(
                f"no column in common: reference has {sorted(self.columns)[:10]}, "
                f"current has {sorted(current.columns)[:10]}"
            )
        unknown = [c for c in chosen if c not in self.columns]
        absent = [c for c in chosen if c not in current.columns]
        if unknown or absent:
            raise DriftInputError(f"columns not in the reference: {unknown}; not in the current window: {absent}")
        if current.empty:
            raise DriftInputError("the current window is empty")
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda c: self._column(c, current[c]), chosen))
        adjusted = stats.false_discovery_control([r.p_value for r in results], method="bh")
        for result, p_adj in zip(results, adjusted, strict=True):
            result.p_value_adjusted = float(p_adj)
            result.drifted = bool(p_adj < alpha and result.effect_size > result.threshold)
        return DriftReport(results, alpha)

    def _column(self, column: str, series: pd.Series) -> ColumnDrift:
        profile = self.columns[column]
        if profile.kind == "numeric":
            if not _is_numeric(series) and series.notna().any():
                values = _numeric(series, column)
            else:
                values = series.dropna().to_numpy(dtype=np.float64)
            if len(values) == 0:
                raise DriftInputError(f"current column {column!r} has no non-missing values")
            reference = np.asarray(profile.sample)
            statistic, p_value = ks_test(reference, values)
            effect_values = values
            if len(values) > EFFECT_SAMPLE:
                effect_values = np.random.default_rng(0).choice(values, EFFECT_SAMPLE, replace=False)
            effect = numeric_effect(reference, effect_values, profile.spread)
            return ColumnDrift(
                column,
                "numeric",
                "ks",
                statistic,
                p_value,
                p_value,
                effect,
                "wasserstein/iqr",
                profile.threshold(len(values)),
                False,
                profile.rows,
                len(values),
            )
        _reject_mixed(series, column)
        counts = _counts(series)
        if not counts:
            raise DriftInputError(f"current column {column!r} has no non-missing values")
        statistic, p_value, categories = chi2_test(profile.counts, counts)
        effect = categorical_effect(profile.counts, counts)
        rows = sum(counts.values())
        return ColumnDrift(
            column,
            "categorical",
            "chi2",
            statistic,
            p_value,
            p_value,
            effect,
            "jensen-shannon",
            profile.threshold(rows),
            False,
            profile.rows,
            rows,
            psi=psi(_proportions(profile.counts, categories), _proportions(counts, categories)),
        )

    def save(self, path: str | Path) -> Path:
        """One ``.npz``: numeric samples as float64 arrays, everything else as JSON."""
        arrays = {f"sample::{k}": np.asarray(v.sample) for k, v in self.columns.items() if v.kind == "numeric"}
        meta = {k: {**asdict(v), "sample": []} for k, v in self.columns.items()}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return atomic.write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            columns = {}
            for name, fields in meta.items():
                profile = ColumnProfile(**fields)
                if profile.kind == "numeric":
                    profile.sample = data[f"sample::{name}"].tolist()
                columns[name] = profile
        return cls(columns)


def _effect(profile: ColumnProfile, reference: pd.Series, current: pd.Series) -> float:
    if profile.kind == "numeric":
        return numeric_effect(
            np.sort(reference.dropna().to_numpy(np.float64)), current.dropna().to_numpy(np.float64), profile.spread
        )
    return categorical_effect(_counts(reference), _counts(current))


def _calibrate(series: pd.Series, profile: ColumnProfile, rng: np.random.Generator) -> tuple[float, float]:
    """(natural chunk-vs-rest effect, sampling-noise scale) from the reference alone.

    Natural: the largest effect of a contiguous chunk against the rest of the reference. Noise: the 95th
    percentile of random subsets against the rest, times the square root of their effective size, so the
    noise threshold for a window of ``n`` rows is ``noise_scale / sqrt(n_eff)``.
    """
    values = series.reset_index(drop=True)
    if profile.kind == "numeric":
        values = pd.to_numeric(values, errors="coerce")
    values = values.dropna().reset_index(drop=True)
    n = len(values)
    if n < 2 * CHUNKS:
        return 0.0, 0.0
    bounds = np.linspace(0, n, CHUNKS + 1, dtype=int)
    natural = max(
        _effect(profile, pd.concat([values[:a], values[b:]]), values[a:b]) for a, b in itertools.pairwise(bounds)
    )
    size = max(n // 5, 10)
    draws = []
    for _ in range(NOISE_DRAWS):
        mask = np.zeros(n, dtype=bool)
        mask[rng.choice(n, size, replace=False)] = True
        draws.append(_effect(profile, values[~mask], values[mask]))
    n_eff = size * (n - size) / n
    return float(natural), float(np.percentile(draws, 95) * np.sqrt(n_eff))
