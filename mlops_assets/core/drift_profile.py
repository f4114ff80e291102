"""The reference profile: built once per model version, then every window is checked against it.

It keeps, per numeric column, a sorted sample of the finite values (capped, 200k by default), their
interquartile range, the observed min/max, the null rate and the count of +-inf; per categorical column, the
category counts; and for both, the calibration of the effect-size threshold (see ``drift``). Saved as one
``.npz`` file next to the model's other records, so a check of a new day never reloads the training data.
"""

from __future__ import annotations

import contextlib
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
    CategoryCells,
    ColumnDrift,
    ColumnProfile,
    DriftInputError,
    DriftReport,
    UntestableColumn,
    categorical_effect,
    category_counts,
    chi2_table,
    ks_test,
    numeric_effect,
    proportions,
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
    with contextlib.suppress(TypeError):  # unhashable cells (lists, dicts) are looked at one by one
        values = values.unique()  # a few categories to look at, not a million rows
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
                profile = _numeric_profile(_numeric(series, column), null_rate, max_sample, rng)
            else:
                _reject_mixed(series, column)
                profile = ColumnProfile(
                    "categorical", int(series.notna().sum()), null_rate, counts=category_counts(series).to_dict()
                )
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
        tested = [r for r in results if isinstance(r, ColumnDrift)]
        adjusted = stats.false_discovery_control([r.p_value for r in tested], method="bh") if tested else []
        for result, p_adj in zip(tested, adjusted, strict=True):
            result.p_value_adjusted = float(p_adj)
            result.drifted = bool(p_adj < alpha and result.effect_size > result.threshold)
        return DriftReport(tested, alpha, [r for r in results if isinstance(r, UntestableColumn)])

    def _column(self, column: str, series: pd.Series) -> ColumnDrift | UntestableColumn:
        profile = self.columns[column]
        if profile.kind == "numeric":
            return self._numeric_column(column, series, profile)
        _reject_mixed(series, column)
        counts = category_counts(series)
        if counts.empty:
            raise DriftInputError(f"current column {column!r} has no non-missing values")
        cells = CategoryCells.of(pd.Series(profile.counts, dtype=np.int64), counts)
        rows = int(counts.sum())
        if cells.unseen_share_expected == 1.0:
            reason = (
                f"each of the reference's {profile.rows} values occurs once (an identifier, or too few rows): any "
                f"window from the same source is all new ({cells.unseen_share:.0%} of current rows are unseen); "
                "leave the column out or map it to coarser categories"
            )
            return UntestableColumn(column, "categorical", reason, profile.rows, rows, unseen_share=cells.unseen_share)
        statistic, p_value = chi2_table(cells.table())
        return ColumnDrift(
            column,
            "categorical",
            "chi2",
            statistic,
            p_value,
            p_value,
            categorical_effect(cells),
            "jensen-shannon",
            max(profile.threshold(rows), cells.noise()),
            False,
            profile.rows,
            rows,
            psi=psi(proportions(cells.reference), proportions(cells.current)),
            unseen_share=cells.unseen_share,
            unseen_share_expected=cells.unseen_share_expected,
        )

    @staticmethod
    def _numeric_column(column: str, series: pd.Series, profile: ColumnProfile) -> ColumnDrift | UntestableColumn:
        if not _is_numeric(series) and series.notna().any():
            values = _numeric(series, column)
        else:
            values = series.dropna().to_numpy(dtype=np.float64)
        if len(values) == 0:
            raise DriftInputError(f"current column {column!r} has no non-missing values")
        values, nonfinite = _finite(values)
        reference = np.asarray(profile.sample)
        if len(reference) == 0 or len(values) == 0:
            window, count = ("reference", profile.nonfinite) if len(reference) == 0 else ("current window", nonfinite)
            reason = f"the {window} has no finite values ({count} are +-inf)"
            return UntestableColumn(column, "numeric", reason, profile.rows, len(values), profile.nonfinite, nonfinite)
        statistic, p_value = ks_test(reference, values)
        effect_values = values
        if len(values) > EFFECT_SAMPLE:
            effect_values = np.random.default_rng(0).choice(values, EFFECT_SAMPLE, replace=False)
        return ColumnDrift(
            column,
            "numeric",
            "ks",
            statistic,
            p_value,
            p_value,
            numeric_effect(reference, effect_values, profile.spread),
            "wasserstein/iqr",
            profile.threshold(len(values)),
            False,
            profile.rows,
            len(values),
            nonfinite_reference=profile.nonfinite,
            nonfinite_current=nonfinite,
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
                if not np.isfinite([profile.natural_effect, profile.noise_scale]).all():
                    raise DriftInputError(
                        f"{path}: column {name!r} was calibrated on +-inf values by an older drift engine, so its "
                        "threshold is NaN; rebuild the profile"
                    )
                columns[name] = profile
        return cls(columns)


def _finite(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(the finite values, how many +-inf were left out): one +-inf turns every mean and distance into NaN."""
    finite = np.isfinite(values)
    dropped = len(values) - int(finite.sum())
    return (values[finite] if dropped else values), dropped


def _numeric_profile(values: np.ndarray, null_rate: float, max_sample: int, rng: np.random.Generator) -> ColumnProfile:
    low, high = (float(values.min()), float(values.max())) if len(values) else (None, None)
    values, nonfinite = _finite(values)
    if len(values) == 0:
        return ColumnProfile("numeric", 0, null_rate, low=low, high=high, nonfinite=nonfinite)
    sample = np.sort(rng.choice(values, max_sample, replace=False) if len(values) > max_sample else values)
    q1, q3 = np.percentile(values, [25, 75])
    spread = float(q3 - q1) or float(values.std()) or 1.0
    return ColumnProfile("numeric", len(values), null_rate, sample.tolist(), spread, low, high, nonfinite=nonfinite)


def _effect(profile: ColumnProfile, reference: pd.Series, current: pd.Series) -> float:
    if profile.kind == "numeric":
        return numeric_effect(np.sort(reference.to_numpy(np.float64)), current.to_numpy(np.float64), profile.spread)
    return categorical_effect(CategoryCells.of(category_counts(reference), category_counts(current)))


def _calibrate(series: pd.Series, profile: ColumnProfile, rng: np.random.Generator) -> tuple[float, float]:
    """(natural chunk-vs-rest effect, sampling-noise scale) from the reference alone.

    Natural: the largest effect of a contiguous chunk against the rest of the reference. Noise: the 95th
    percentile of random subsets against the rest, times the square root of their effective size, so the
    noise threshold for a window of ``n`` rows is ``noise_scale / sqrt(n_eff)``.
    """
    values = series.reset_index(drop=True)
    if profile.kind == "numeric":
        values = pd.to_numeric(values, errors="coerce").astype(np.float64)
        values = values[np.isfinite(values.to_numpy())]
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
