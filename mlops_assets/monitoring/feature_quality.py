"""Feature quality of a raw window against the reference: missing values, ranges, categories, schema.

Drift asks "has the distribution moved?"; quality asks "is the data still well formed?": a jump in the
missing rate (tested with a one-sided binomial test against the reference's rate), values outside the
reference's observed range, categories the model never saw, and columns that appeared, vanished or
changed type. Any of these marks the window ``degraded``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd
from scipy import stats

from mlops_assets.monitoring.drift_profile import ReferenceProfile


@dataclass
class QualityReport:
    """Per-column findings and the list of issues a person should look at."""

    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    type_changes: dict[str, str] = field(default_factory=dict)
    missing_rate: dict[str, dict[str, float]] = field(default_factory=dict)
    out_of_range_share: dict[str, float] = field(default_factory=dict)
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        return bool(self.issues)

    def to_dict(self) -> dict:
        return {**asdict(self), "degraded": self.degraded}


def feature_quality(
    profile: ReferenceProfile,
    current: pd.DataFrame,
    alpha: float = 0.01,
    max_out_of_range: float = 0.01,
    columns: list[str] | None = None,
) -> QualityReport:
    """Compare ``current``'s shape and cleanliness with the reference profile.

    ``columns`` limits the comparison to the input features (a profile also holds the model's ``score``,
    which raw data never has); by default every profiled column is expected.
    """
    report = QualityReport()
    expected = set(columns if columns is not None else profile.columns)
    report.missing_columns = sorted(expected - set(current.columns))
    report.extra_columns = sorted(
        set(current.columns)
        - expected
        - {"customer_id", "event_timestamp", "age_band", "churned", "label_available_at"}
    )
    report.issues += [f"missing column {c!r}" for c in report.missing_columns]
    report.issues += [f"unexpected column {c!r}" for c in report.extra_columns]
    for name in sorted(expected & set(current.columns)):
        column, series = profile.columns[name], current[name]
        if column.kind == "numeric":
            values = pd.to_numeric(series, errors="coerce")
            unparsable = int((values.isna() & series.notna()).sum())
            if unparsable:
                report.type_changes[name] = f"{unparsable} non-numeric values (dtype {series.dtype})"
                report.issues.append(f"{name}: {unparsable} values are not numbers")
            if column.low is not None and column.high is not None and values.notna().any():
                outside = float(((values < column.low) | (values > column.high)).sum() / values.notna().sum())
                report.out_of_range_share[name] = outside
                if outside > max_out_of_range:
                    report.issues.append(
                        f"{name}: {outside:.1%} outside the reference range [{column.low}, {column.high}]"
                    )
        else:
            unseen = sorted(set(series.dropna().astype(str)) - set(column.counts))
            if unseen:
                report.unseen_categories[name] = unseen[:20]
                report.issues.append(f"{name}: unseen categories {unseen[:5]}")
        missing = int(series.isna().sum())
        test = (
            stats.binomtest(missing, len(series), max(column.null_rate, 1e-4), alternative="greater")
            if len(series)
            else None
        )
        p_value = float(test.pvalue) if test else 1.0
        report.missing_rate[name] = {
            "reference": column.null_rate,
            "current": missing / max(len(series), 1),
            "p_value": p_value,
        }
        if p_value < alpha and missing / max(len(series), 1) > column.null_rate + 0.01:
            report.issues.append(
                f"{name}: missing rate {missing / len(series):.1%} vs {column.null_rate:.1%} in reference"
            )
    return report
