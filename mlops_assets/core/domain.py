"""The subscription-churn domain: one place that names every column, its type, range and vocabulary.

Validation, features, training and the serving gateway all read this module, so a column is defined once
and the model sees the same encoding in training and in serving.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the derived ratio features; the Feast on-demand view and tests both call this."""
    out = pd.DataFrame(index=frame.index)
    out["charges_per_tenure_month"] = (frame["total_charges"] / (frame["tenure_months"] + 1.0)).astype("float64")
    out["tickets_per_session"] = (frame["support_tickets_30d"] / (frame["sessions_30d"] + 1.0)).astype("float64")
    return out


def encode(frame: pd.DataFrame) -> np.ndarray:
    """Turn feature rows into the model's float32 matrix (ordinal category codes, unseen -> NaN).

    Missing derived columns are computed here, so a caller may pass raw feature rows or Feast's output.
    """
    missing = [c for c in NUMERIC_NAMES + CATEGORICAL_NAMES if c not in frame.columns]
    if missing:
        raise KeyError(f"feature rows lack columns {missing}; expected all of {list(MODEL_FEATURES)}")
    if any(c not in frame.columns for c in DERIVED):
        frame = pd.concat([frame, derive(frame)[[c for c in DERIVED if c not in frame.columns]]], axis=1)
    matrix = np.empty((len(frame), len(MODEL_FEATURES)), dtype=np.float32)
    for i, name in enumerate(NUMERIC_NAMES):
        matrix[:, i] = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    offset = len(NUMERIC_NAMES)
    for j, column in enumerate(CATEGORICAL):
        codes = pd.Categorical(frame[column.name], categories=list(column.categories)).codes.astype(np.float32)
        codes[codes < 0] = np.nan
        matrix[:, offset + j] = codes
    offset += len(CATEGORICAL)
    for k, name in enumerate(DERIVED):
        matrix[:, offset + k] = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return matrix
