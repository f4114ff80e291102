"""The subscription-churn domain: one place that names every column, its type, range and vocabulary.

Validation, features, training and the serving gateway all read this module, so a column is defined once
and the model sees the same encoding in training and in serving.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and pandas load on first use: the Definitions import this module (0.5 s saved)
    import numpy as np
    import pandas as pd

ENTITY = "customer_id"
TIMESTAMP = "event_timestamp"
LABEL = "churned"
LABEL_TIMESTAMP = "label_available_at"
SEGMENT = "age_band"
"""The protected attribute used for fairness reports; deliberately not a model feature."""


@dataclass(frozen=True)
class NumericColumn:
    """A numeric feature with its physically possible range; ``nullable`` marks optional survey data."""

    name: str
    low: float
    high: float
    nullable: bool = False
    description: str = ""


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical feature with its closed vocabulary (order fixes the model's ordinal codes)."""

    name: str
    categories: tuple[str, ...]
    description: str = ""


NUMERIC: tuple[NumericColumn, ...] = (
    NumericColumn("tenure_months", 0, 240, description="Months since the subscription started."),
    NumericColumn("monthly_charges", 0, 500, description="Current monthly bill in EUR."),
    NumericColumn("total_charges", 0, 120_000, description="Lifetime billed amount in EUR."),
    NumericColumn("discount_pct", 0, 100, description="Active discount in percent."),
    NumericColumn("failed_payments_90d", 0, 50, description="Failed payment attempts, last 90 days."),
    NumericColumn("support_tickets_30d", 0, 100, description="Support tickets opened, last 30 days."),
    NumericColumn("sessions_30d", 0, 2_000, description="App or web sessions, last 30 days."),
    NumericColumn(
        "avg_session_minutes", 0, 600, nullable=True, description="Mean session length (missing if no session)."
    ),
    NumericColumn("days_since_last_login", 0, 3_650, description="Days since the last login."),
    NumericColumn("data_usage_gb", 0, 5_000, description="Data used, last 30 days."),
    NumericColumn("devices", 1, 50, description="Registered devices."),
    NumericColumn(
        "satisfaction_score", 1, 10, nullable=True, description="Last survey score (missing if never surveyed)."
    ),
)

CATEGORICAL: tuple[CategoricalColumn, ...] = (
    CategoricalColumn("plan", ("basic", "standard", "premium"), "Subscription tier."),
    CategoricalColumn("region", ("north", "south", "east", "west"), "Billing region."),
    CategoricalColumn("payment_method", ("card", "paypal", "bank_transfer", "invoice"), "How the customer pays."),
    CategoricalColumn("device_type", ("ios", "android", "web"), "Primary device."),
)

SEGMENT_CATEGORIES: tuple[str, ...] = ("18-29", "30-44", "45-64", "65+")

DERIVED: tuple[str, ...] = ("charges_per_tenure_month", "tickets_per_session")
"""Computed on demand (a Feast on-demand feature view) from the columns above."""

DERIVED_DESCRIPTIONS: dict[str, str] = {
    "charges_per_tenure_month": "Total charges per month of tenure: total_charges / (tenure_months + 1).",
    "tickets_per_session": "Support load per use: support_tickets_30d / (sessions_30d + 1).",
}

ACCOUNT_FEATURES: tuple[str, ...] = (
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "discount_pct",
    "failed_payments_90d",
    "plan",
    "region",
    "payment_method",
)
ENGAGEMENT_FEATURES: tuple[str, ...] = (
    "support_tickets_30d",
    "sessions_30d",
    "avg_session_minutes",
    "days_since_last_login",
    "data_usage_gb",
    "devices",
    "satisfaction_score",
    "device_type",
)

NUMERIC_NAMES: tuple[str, ...] = tuple(c.name for c in NUMERIC)
CATEGORICAL_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORICAL)
MODEL_FEATURES: tuple[str, ...] = NUMERIC_NAMES + CATEGORICAL_NAMES + DERIVED
"""Column order of the model's input matrix; the ONNX artifact's input has exactly these columns."""

RAW_COLUMNS: tuple[str, ...] = (
    ENTITY,
    TIMESTAMP,
    *NUMERIC_NAMES,
    *CATEGORICAL_NAMES,
    SEGMENT,
    LABEL,
    LABEL_TIMESTAMP,
)


def _ratios(column: Callable[[str], Any]) -> dict[str, Any]:
    """The derived features from a column getter (float64 Series or arrays); the one place they are defined."""
    return {
        "charges_per_tenure_month": column("total_charges") / (column("tenure_months") + 1.0),
        "tickets_per_session": column("support_tickets_30d") / (column("sessions_30d") + 1.0),
    }


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the derived ratio features; the Feast on-demand view calls this."""
    import pandas as pd

    ratios = _ratios(lambda name: frame[name].astype("float64"))
    return pd.DataFrame({name: ratios[name] for name in DERIVED}, index=frame.index)


Columns = Mapping[str, Sequence[Any]]
"""Feature rows as column lists (Feast's ``to_dict()`` shape): what the gateway holds for a request."""


@functools.cache
def _category_index(name: str) -> pd.Index:
    import pandas as pd

    return pd.Index(next(c.categories for c in CATEGORICAL if c.name == name))


_CATEGORY_CODE: dict[str, dict[str, int]] = {c.name: {v: i for i, v in enumerate(c.categories)} for c in CATEGORICAL}
_SMALL = 256
"""Below this many rows a dict lookup beats building pandas' hash index (a serving request is 1-64 rows)."""


def _codes(name: str, values: Sequence[Any]) -> np.ndarray:
    """Ordinal codes of a categorical column, -1 for values outside the vocabulary (including missing)."""
    import numpy as np
    import pandas as pd

    if len(values) <= _SMALL:
        lookup = _CATEGORY_CODE[name]
        items = values.tolist() if isinstance(values, pd.Series) else values
        return np.fromiter((lookup.get(v, -1) for v in items), dtype=np.int64, count=len(values))
    return _category_index(name).get_indexer(np.asarray(values, dtype=object))


def _numeric(rows: pd.DataFrame | Columns) -> np.ndarray:
    """The numeric columns as float64 (non-numbers -> NaN), in one conversion when they are already numbers."""
    import numpy as np
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        block = rows[list(NUMERIC_NAMES)]
        if all(pd.api.types.is_numeric_dtype(dtype) for dtype in block.dtypes):
            return block.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:  # None -> NaN; a string or other object raises and takes the coercing path below
            return np.array([rows[name] for name in NUMERIC_NAMES], dtype=np.float64).T.copy()
        except (TypeError, ValueError):
            pass
    return np.column_stack(
        [
            pd.to_numeric(pd.Series(rows[name], dtype=object), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            for name in NUMERIC_NAMES
        ]
    )


def encode(rows: pd.DataFrame | Columns) -> np.ndarray:
    """Turn feature rows into the model's float32 matrix (ordinal category codes, unseen -> NaN).

    ``rows`` is a DataFrame or column lists. The derived ratios are always computed here from the numeric
    columns (in float64, as the Feast view computes them), so raw feature rows and Feast's output encode
    identically and a client cannot smuggle in its own ratios. The gateway calls this per request, hence
    whole-block conversions and no DataFrame construction for column lists.
    """
    import numpy as np

    missing = [c for c in NUMERIC_NAMES + CATEGORICAL_NAMES if c not in rows]
    if missing:
        raise KeyError(f"feature rows lack columns {missing}; expected all of {list(MODEL_FEATURES)}")
    numeric = _numeric(rows)
    matrix = np.empty((len(numeric), len(MODEL_FEATURES)), dtype=np.float32)
    matrix[:, : len(NUMERIC_NAMES)] = numeric
    offset = len(NUMERIC_NAMES)
    for j, column in enumerate(CATEGORICAL):
        codes = _codes(column.name, rows[column.name])
        matrix[:, offset + j] = np.where(codes < 0, np.nan, codes)
    offset += len(CATEGORICAL)
    position = {name: i for i, name in enumerate(NUMERIC_NAMES)}
    ratios = _ratios(lambda name: numeric[:, position[name]])
    for k, name in enumerate(DERIVED):
        matrix[:, offset + k] = ratios[name]
    return matrix
