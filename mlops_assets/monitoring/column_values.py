"""A column's values as numbers: float64 with NaN where missing, and the +-inf left out before any statistic.

Shared by the reference profile (``drift_calibration``) and the check of a window (``drift_profile``), so
both read a column the same way and reject the same inputs. No Dagster here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_assets.monitoring.drift import DriftInputError


def is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def as_float(series: pd.Series, column: str) -> np.ndarray:
    """The column as float64 with NaN where missing; a float column is returned without a copy."""
    if is_numeric(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_bool_dtype(series):
        raise DriftInputError(f"column {column!r} is boolean; cast it to int or category first")
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        raise DriftInputError(f"column {column!r} mixes numbers and text, e.g. {series[bad].iloc[0]!r}")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def finite_only(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(the finite values, how many +-inf were left out): one +-inf turns every mean and distance into NaN."""
    finite = np.isfinite(values)
    dropped = len(values) - int(finite.sum())
    return (values[finite] if dropped else values), dropped
