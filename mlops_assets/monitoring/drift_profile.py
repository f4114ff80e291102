"""The reference profile: built once per model version, then every window is checked against it.

It keeps, per numeric column, a sorted sample of the finite values (capped, 200k by default), their
interquartile range, the observed min/max, the null rate and the count of +-inf; per categorical column, the
category counts; and for both, the calibration of the effect-size threshold (see ``drift``). Saved as one
``.npz`` file next to the model's other records (``mlops drift --save-profile`` writes the same file), so a
check of a new window never reloads the training data nor recalibrates.

How one column is profiled and calibrated is in ``drift_calibration``; how its values are read, in
``column_values``.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mlops_assets.monitoring.column_values import as_float, finite_only
from mlops_assets.monitoring.drift import (
    EPSILON,
    CategoryCells,
    ColumnProfile,
    DriftInputError,
    categorical_effect,
    category_codes,
    chi2_table,
    code_counts,
    ks_wasserstein,
    proportions,
    psi,
)
from mlops_assets.monitoring.drift_calibration import column_profile
from mlops_assets.monitoring.drift_report import ColumnDrift, DriftReport, UntestableColumn
from resources import atomic

CALIBRATION_ROWS = 20_000
WORKERS = 2  # numpy's sorts and merges release the GIL: columns are profiled and tested two at a time


class ReferenceProfile:
    """Per-column reference statistics and calibrated thresholds."""

    def __init__(self, columns: dict[str, ColumnProfile]) -> None:
        self.columns = columns
        self._categories: dict[str, tuple[pd.Index, np.ndarray]] = {}

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, columns: list[str] | None = None, max_sample: int = 200_000, seed: int = 0
    ) -> ReferenceProfile:
        """Profile ``columns`` of ``frame`` (all by default); calibrate thresholds on the frame itself.

        The same ``frame``, ``columns`` and ``seed`` give the same profile.
        """
        if frame.empty:
            raise DriftInputError("the reference is empty: nothing to compare against")
        chosen = list(columns or frame.columns)
        missing = [c for c in chosen if c not in frame.columns]
        if missing:
            raise DriftInputError(f"reference lacks columns {missing}")
        sequence = np.random.SeedSequence(seed)
        rows = np.random.default_rng(sequence).choice(len(frame), min(len(frame), CALIBRATION_ROWS), replace=False)
        seeds = sequence.spawn(len(chosen))

        series = [frame[c] for c in chosen]

        def profile(at: int) -> ColumnProfile:
            return column_profile(series[at], chosen[at], rows, max_sample, np.random.default_rng(seeds[at]))

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return cls(dict(zip(chosen, pool.map(profile, range(len(chosen))), strict=True)))

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
        series = [current[c] for c in chosen]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(self._column, chosen, series))
        tested = [r for r in results if isinstance(r, ColumnDrift)]
        adjusted = stats.false_discovery_control([r.p_value for r in tested], method="bh") if tested else []
        for result, p_adj in zip(tested, adjusted, strict=True):
            result.p_value_adjusted = float(p_adj)
            result.drifted = bool(p_adj < alpha and result.effect_size > result.threshold)
        return DriftReport(tested, alpha, [r for r in results if isinstance(r, UntestableColumn)])

    def _column(self, column: str, series: pd.Series) -> ColumnDrift | UntestableColumn:
        profile = self.columns[column]
        if profile.kind == "numeric":
            return _numeric_column(column, series, profile)
        codes, labels = category_codes(series, column)
        counts = code_counts(codes, len(labels))
        if not counts.any():
            raise DriftInputError(f"current column {column!r} has no non-missing values")
        cells = CategoryCells.of(*_aligned(*self._reference_counts(column), labels, counts))
        rows = int(counts.sum())
        if cells.unseen_share_expected == 1.0:
            reason = (
                f"each of the reference's {profile.rows} values occurs once (an identifier, or too few rows): any "
                f"window from the same source is all new ({cells.unseen_share:.0%} of current rows are unseen); "
                "leave the column out or map it to coarser categories"
            )
            return UntestableColumn(
                column=column,
                kind="categorical",
                reason=reason,
                rows_reference=profile.rows,
                rows_current=rows,
                unseen_share=cells.unseen_share,
            )
        statistic, p_value = chi2_table(cells.table())
        return ColumnDrift(
            column=column,
            kind="categorical",
            test="chi2",
            statistic=statistic,
            p_value=p_value,
            effect_size=categorical_effect(cells),
            effect_size_name="jensen-shannon",
            threshold=max(profile.threshold(rows), cells.noise()),
            rows_reference=profile.rows,
            rows_current=rows,
            psi=psi(proportions(cells.reference), proportions(cells.current)),
            unseen_share=cells.unseen_share,
            unseen_share_expected=cells.unseen_share_expected,
        )

    def _reference_counts(self, column: str) -> tuple[pd.Index, np.ndarray]:
        """The reference's category labels and counts as arrays, built once per column and reused by each window."""
        if column not in self._categories:
            counts = self.columns[column].counts
            self._categories[column] = (pd.Index(list(counts)), np.fromiter(counts.values(), np.float64, len(counts)))
        return self._categories[column]

    def save(self, path: str | Path) -> Path:
        """One ``.npz``: numeric samples as float64 arrays, everything else as JSON.

        Stored uncompressed: sorted random floats barely compress, and zlib over a 25-column profile of a
        million rows took longer than building it.
        """
        arrays = {
            f"sample::{k}": np.asarray(v.sample, np.float64) for k, v in self.columns.items() if v.kind == "numeric"
        }
        meta = {
            k: {f.name: getattr(v, f.name) for f in fields(v) if f.name != "sample"} for k, v in self.columns.items()
        }
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return atomic.write_bytes(path, buffer.getbuffer())

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            columns = {}
            for name, entries in meta.items():
                entries.pop("sample", None)  # profiles saved before samples became arrays kept an empty list here
                profile = ColumnProfile(**entries)
                if profile.kind == "numeric":
                    profile.sample = data[f"sample::{name}"]
                if not np.isfinite([profile.natural_effect, profile.noise_scale]).all():
                    raise DriftInputError(
                        f"{path}: column {name!r} was calibrated on +-inf values by an older drift engine, so its "
                        "threshold is NaN; rebuild the profile"
                    )
                columns[name] = profile
        return cls(columns)


def _aligned(
    labels: pd.Index, counts: np.ndarray, current_labels: pd.Index, current_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts side by side: the reference's categories, then the ones new to it."""
    at = labels.get_indexer(current_labels)
    new = at < 0
    current = np.zeros(len(labels) + int(new.sum()))
    current[at[~new]] = current_counts[~new]
    current[len(labels) :] = current_counts[new]
    return np.append(counts, np.zeros(int(new.sum()))), current


def _numeric_column(column: str, series: pd.Series, profile: ColumnProfile) -> ColumnDrift | UntestableColumn:
    values = as_float(series, column)
    missing = np.isnan(values)
    values = values[~missing] if missing.any() else values
    if len(values) == 0:
        raise DriftInputError(f"current column {column!r} has no non-missing values")
    values, nonfinite = finite_only(values)
    reference = np.asarray(profile.sample, np.float64)
    if len(reference) == 0 or len(values) == 0:
        window, count = ("reference", profile.nonfinite) if len(reference) == 0 else ("current window", nonfinite)
        reason = f"the {window} has no finite values ({count} are +-inf)"
        return UntestableColumn(
            column=column,
            kind="numeric",
            reason=reason,
            rows_reference=profile.rows,
            rows_current=len(values),
            nonfinite_reference=profile.nonfinite,
            nonfinite_current=nonfinite,
        )
    statistic, p_value, wasserstein = ks_wasserstein(reference, np.sort(values))
    return ColumnDrift(
        column=column,
        kind="numeric",
        test="ks",
        statistic=statistic,
        p_value=p_value,
        effect_size=wasserstein / max(profile.spread, EPSILON),
        effect_size_name="wasserstein/iqr",
        threshold=profile.threshold(len(values)),
        rows_reference=profile.rows,
        rows_current=len(values),
        nonfinite_reference=profile.nonfinite,
        nonfinite_current=nonfinite,
    )
