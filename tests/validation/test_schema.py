"""The raw-event contract: every class of bad input is quarantined with a clear reason, nothing is lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import Scenario, generate_day
from mlops_assets.validation.schema import REASONS, ValidationOutcome, build_schema, split_valid

DAY = dt.date(2026, 1, 5)
START = pd.Timestamp(DAY, tz="UTC")
WINDOW = (START, START + pd.Timedelta(days=1))
BAD_ROW = 3


@pytest.fixture(scope="module")
def good() -> pd.DataFrame:
    return generate_day(DAY, rows=300)


def _validate(frame: pd.DataFrame) -> ValidationOutcome:
    return split_valid(frame, build_schema(WINDOW))


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.at[row, column] = value
    return frame


def _assert_reconciles(outcome: ValidationOutcome, batch: pd.DataFrame) -> None:
    assert len(outcome.valid) + len(outcome.quarantined) == len(batch)


Corruption = Callable[[pd.DataFrame], pd.DataFrame]

ROW_LEVEL = [
    pytest.param(
        lambda f: _set(f, BAD_ROW, "monthly_charges", -5.0),
        "monthly_charges",
        "in_range",
        "-5.0",
        id="out-of-range-numeric",
    ),
    pytest.param(lambda f: _set(f, BAD_ROW, "plan", "platinum"), "plan", "isin", "platinum", id="unknown-category"),
    pytest.param(lambda f: _set(f, BAD_ROW, d.SEGMENT, "99+"), d.SEGMENT, "isin", "99+", id="unknown-segment"),
    pytest.param(
        lambda f: _set(f, BAD_ROW, "tenure_months", np.nan),
        "tenure_months",
        "not_nullable",
        "",
        id="null-in-non-nullable-column",
    ),
    pytest.param(
        lambda f: _set(f, BAD_ROW, "sessions_30d", "abc"),
        "sessions_30d",
        "coerce_dtype",
        "abc",
        id="uncoercible-text-in-numeric-column",
    ),
    pytest.param(
        lambda f: _set(f, BAD_ROW, d.TIMESTAMP, WINDOW[1] + pd.Timedelta(minutes=30)),
        d.TIMESTAMP,
        "in_range",
        "2026-01-06",
        id="timestamp-on-a-future-day",
    ),
    pytest.param(
        lambda f: _set(f, BAD_ROW, d.TIMESTAMP, "yesterday-ish"),
        d.TIMESTAMP,
        "coerce_dtype",
        "yesterday-ish",
        id="uncoercible-timestamp",
    ),
    pytest.param(lambda f: _set(f, BAD_ROW, d.LABEL, 7), d.LABEL, "isin", "7", id="label-not-binary"),
    pytest.param(
        lambda f: _set(f, BAD_ROW, d.LABEL_TIMESTAMP, START - pd.Timedelta(days=30)),
        "<row>",
        "label_not_before_event",
        "",
        id="label-timestamp-before-event",
    ),
    pytest.param(
        lambda f: _set(f, BAD_ROW, d.LABEL, 0.5),
        d.LABEL,
        "isin",
        "0.5",
        id="label-fractional",
    ),
    pytest.param(
        lambda f: _set(f, BAD_ROW, d.ENTITY, "abc"), d.ENTITY, "coerce_dtype", "abc", id="uncoercible-customer-id"
    ),
]


@pytest.mark.parametrize(("corrupt", "column", "check", "shown"), ROW_LEVEL)
def test_a_bad_value_quarantines_only_its_row_naming_column_check_and_value(
    good: pd.DataFrame, corrupt: Corruption, column: str, check: str, shown: str
):
    # given a clean day with one corrupted row
    batch = corrupt(good)
    # when it is validated
    outcome = _validate(batch)
    # then exactly that row is quarantined, with a reason a person can act on, and the rest passes
    assert not outcome.table_errors
    assert len(outcome.quarantined) == 1
    assert outcome.quarantined[d.ENTITY].iloc[0] == str(batch.at[BAD_ROW, d.ENTITY])
    reason = outcome.quarantined[REASONS].iloc[0]
    assert f"{column}:" in reason and check in reason, reason
    assert shown in reason, reason
    assert len(outcome.valid) == len(good) - 1
    _assert_reconciles(outcome, batch)


def test_a_duplicated_key_keeps_the_first_row_and_quarantines_the_later_copy(good: pd.DataFrame):
    # given a batch where row 10's (customer_id, event_timestamp) appears again with a different bill
    copy = good.iloc[[10]].assign(monthly_charges=123.45)
    batch = pd.concat([good, copy], ignore_index=True)
    # when it is validated
    outcome = _validate(batch)
    # then the first occurrence is kept and the copy is quarantined as a duplicate key
    assert len(outcome.quarantined) == 1
    assert "multiple_fields_uniqueness" in outcome.quarantined[REASONS].iloc[0]
    assert float(outcome.quarantined["monthly_charges"].iloc[0]) == pytest.approx(123.45)
    key = (outcome.valid[d.ENTITY] == good.at[10, d.ENTITY]) & (outcome.valid[d.TIMESTAMP] == good.at[10, d.TIMESTAMP])
    assert outcome.valid.loc[key, "monthly_charges"].tolist() == [good.at[10, "monthly_charges"]]
    _assert_reconciles(outcome, batch)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param(lambda f: f.drop(columns=["region"]), "missing column 'region'", id="missing-column"),
        pytest.param(lambda f: f.assign(coupon_code="X"), "unexpected column 'coupon_code'", id="extra-column"),
    ],
)
def test_a_broken_table_contract_quarantines_the_whole_batch_and_names_the_column(
    good: pd.DataFrame, change: Corruption, named: str
):
    batch = change(good)
    outcome = _validate(batch)
    assert outcome.valid.empty
    assert len(outcome.quarantined) == len(batch)
    assert any(named in error for error in outcome.table_errors), outcome.table_errors
    assert outcome.quarantined[REASONS].str.contains(named, regex=False).all()
    assert outcome.rejection_rate == 1.0


def test_an_empty_batch_is_a_defined_result_not_a_crash(good: pd.DataFrame):
    outcome = _validate(good.iloc[0:0])
    assert outcome.valid.empty and outcome.quarantined.empty
    assert outcome.table_errors == []
    assert outcome.rejection_rate == 0.0


def test_a_clean_day_passes_whole(good: pd.DataFrame):
    outcome = _validate(good)
    assert len(outcome.valid) == len(good)
    assert outcome.quarantined.empty and not outcome.table_errors


@pytest.mark.parametrize(
    ("scenario", "expectation", "whole_batch"),
    [
        pytest.param(Scenario.MISSING_SPIKE, "monthly_charges: not_nullable", False, id="missing_spike"),
        pytest.param(Scenario.SCHEMA_BREAK, "missing column 'plan'", True, id="schema_break"),
    ],
)
def test_malformed_drift_scenarios_are_caught(scenario: Scenario, expectation: str, whole_batch: bool):
    batch = generate_day(DAY, rows=300, scenario=scenario)
    outcome = _validate(batch)
    _assert_reconciles(outcome, batch)
    assert outcome.rejection_rate == (1.0 if whole_batch else pytest.approx(1 - 0.7**3, abs=0.1))
    assert outcome.quarantined[REASONS].str.contains(expectation, regex=False).any()


@pytest.mark.parametrize(
    "scenario", [Scenario.NONE, Scenario.COVARIATE_SHIFT, Scenario.CONCEPT_SHIFT, Scenario.LABEL_DELAY]
)
def test_well_formed_drift_is_not_a_validation_failure(scenario: Scenario):
    outcome = _validate(generate_day(DAY, rows=300, scenario=scenario))
    assert outcome.quarantined.empty and len(outcome.valid) == 300


CORRUPTIBLE = [d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES, d.SEGMENT, d.LABEL, d.LABEL_TIMESTAMP]
VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.text(max_size=6),
    st.sampled_from(["basic", "north", "card", "ios", "18-29", "0", "1", "12.5"]),
    st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2026, 2, 1)).map(
        lambda t: pd.Timestamp(t, tz="UTC")
    ),
)
CORRUPTIONS = st.lists(st.tuples(st.integers(0, 59), st.sampled_from(CORRUPTIBLE), VALUES), max_size=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=CORRUPTIONS, duplicated=st.lists(st.integers(0, 59), max_size=3))
def test_any_corruption_reconciles_and_every_quarantined_row_says_why(
    good: pd.DataFrame, changes: list[tuple[int, str, object]], duplicated: list[int]
):
    # given a valid day with random values overwritten and some rows repeated
    batch = good.head(60).copy()
    for row, column, value in changes:
        batch = _set(batch, row, column, value)
    batch = pd.concat([batch, batch.iloc[duplicated]], ignore_index=True)
    # when it is validated
    outcome = _validate(batch)
    # then no row is lost or invented, every rejection is explained, and what passed really is valid
    _assert_reconciles(outcome, batch)
    assert all(isinstance(reason, str) and reason.strip() for reason in outcome.quarantined[REASONS])
    if len(outcome.valid):
        build_schema(WINDOW).validate(outcome.valid, lazy=True)
