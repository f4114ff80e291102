"""The generator: reproducible days of any size out of a population of any size, same kind of data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.ingestion import generator
from mlops_assets.ingestion.generator import TRAIT_SHARES, Scenario, customer_traits, generate_day

DAY = dt.date(2026, 1, 5)
STABLE = ["plan", "payment_method", "device_type", d.SEGMENT]


@pytest.mark.parametrize("scenario", list(Scenario))
def test_the_same_seed_day_scenario_population_and_rows_give_the_same_rows(scenario):
    first = generate_day(DAY, rows=2_000, population=50_000, scenario=scenario)
    again = generate_day(DAY, rows=2_000, population=50_000, scenario=scenario)
    pd.testing.assert_frame_equal(first, again)


def test_a_customer_keeps_its_traits_across_days_and_population_sizes():
    small = generate_day(DAY, rows=3_000, population=5_000).set_index(d.ENTITY)
    large = generate_day(DAY + dt.timedelta(days=3), rows=30_000, population=40_000).set_index(d.ENTITY)
    both = small.index.intersection(large.index)
    assert len(both) > 1_000
    pd.testing.assert_frame_equal(small.loc[both, STABLE], large.loc[both, STABLE])


def test_traits_are_a_function_of_the_id_and_seed_alone():
    ids = np.array([100_000, 100_001, 5_000_000_123])
    pd.testing.assert_frame_equal(customer_traits(ids).iloc[[2]].reset_index(drop=True), customer_traits(ids[2:]))
    assert not customer_traits(ids, seed=8).equals(customer_traits(ids, seed=7))


def test_a_day_spanning_several_chunks_has_distinct_customers_in_time_order(monkeypatch):
    monkeypatch.setattr(generator, "CHUNK_ROWS", 1_000)
    day = generate_day(DAY, rows=4_500, population=9_000)
    assert len(day) == 4_500 and day[d.ENTITY].is_unique
    assert day[d.TIMESTAMP].is_monotonic_increasing
    assert day[d.ENTITY].between(generator.FIRST_ID, generator.FIRST_ID + 9_000 - 1).all()
    assert list(day.columns) == list(d.RAW_COLUMNS)


def test_a_large_population_gives_the_same_kind_of_data():
    default = generate_day(DAY, rows=20_000)
    large = generate_day(DAY, rows=20_000, population=2_000_000)
    assert abs(default[d.LABEL].mean() - large[d.LABEL].mean()) < 0.015
    for column in ("tenure_months", "monthly_charges", "sessions_30d"):
        assert large[column].mean() == pytest.approx(default[column].mean(), rel=0.05)


@pytest.mark.parametrize("trait", list(TRAIT_SHARES))
def test_category_shares_follow_the_documented_mix(trait):
    traits = customer_traits(np.arange(100_000, 300_000))
    shares = traits[trait].value_counts(normalize=True)
    vocabulary = [c.categories for c in d.CATEGORICAL if c.name == trait] or [d.SEGMENT_CATEGORIES]
    expected = dict(zip(vocabulary[0], TRAIT_SHARES[trait], strict=True))
    assert shares.to_dict() == pytest.approx(expected, abs=0.01)


def test_more_rows_than_customers_is_refused_with_the_population_to_raise():
    with pytest.raises(ValueError, match="raise population to at least 30,000"):
        generate_day(DAY, rows=30_000, population=20_000)


def test_an_empty_day_keeps_the_raw_columns():
    assert list(generate_day(DAY, rows=0).columns) == list(d.RAW_COLUMNS)
