import datetime as dt

import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.monitoring.drift_profile import ReferenceProfile
from mlops_assets.monitoring.feature_quality import feature_quality

DAY = dt.date(2026, 1, 9)


@pytest.fixture(scope="module")
def profile():
    history = pd.concat([generate_day(dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(5)])
    return ReferenceProfile.from_frame(history[[*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]])


def test_a_clean_day_has_no_quality_issue(profile):
    assert feature_quality(profile, generate_day(DAY)).issues == []


def test_a_missing_value_spike_is_flagged_per_column(profile):
    report = feature_quality(profile, generate_day(DAY, scenario="missing_spike"))
    flagged = {issue.split(":")[0] for issue in report.issues}
    assert {"monthly_charges", "sessions_30d", "days_since_last_login"} <= flagged
    assert report.missing_rate["monthly_charges"]["p_value"] < 1e-10


def test_a_schema_break_names_missing_extra_and_retyped_columns(profile):
    report = feature_quality(profile, generate_day(DAY, scenario="schema_break"))
    assert "plan" in report.missing_columns and "monthly_charge_eur" in report.extra_columns
    assert "tenure_months" in report.type_changes


def test_unseen_categories_and_out_of_range_values_are_reported(profile):
    day = generate_day(DAY)
    day.loc[:30, "region"] = "atlantis"
    day.loc[:100, "devices"] = 49
    report = feature_quality(profile, day)
    assert report.unseen_categories["region"] == ["atlantis"]
    assert report.out_of_range_share["devices"] > 0.05 and report.degraded
