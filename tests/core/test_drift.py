import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlops_assets.core import domain as d
from mlops_assets.core.drift import DriftInputError, chi2_test, ks_test
from mlops_assets.core.drift_profile import ReferenceProfile
from mlops_assets.core.generator import generate_day

COLUMNS = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.concat([generate_day(dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(10)], ignore_index=True)


@pytest.fixture(scope="module")
def profile(reference) -> ReferenceProfile:
    return ReferenceProfile.from_frame(reference[COLUMNS])


@pytest.mark.parametrize(
    ("n1", "n2"), [(300, 500), (8_000, 9_000), (40_000, 25_000)], ids=["exact", "exact-big", "asymp"]
)
def test_ks_statistic_and_p_value_equal_scipys(n1, n2):
    rng = np.random.default_rng(n1)
    a, b = np.sort(rng.normal(0, 1, n1)), rng.normal(0.05, 1, n2)
    b[:50] = a[:50]  # ties across samples
    expected = stats.ks_2samp(a, b)
    statistic, p_value = ks_test(a, b)
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_chi2_equals_scipys_on_the_contingency_table_including_unseen_categories():
    ref, cur = {"a": 500, "b": 300, "c": 200}, {"a": 40, "b": 30, "d": 5}
    statistic, p_value, categories = chi2_test(ref, cur)
    table = [[ref.get(k, 0) for k in categories], [cur.get(k, 0) for k in categories]]
    expected = stats.chi2_contingency(table, correction=False)
    assert categories == ["a", "b", "c", "d"]
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))


def test_a_normal_next_day_does_not_alarm(profile):
    report = profile.compare(generate_day(dt.date(2026, 1, 12)))
    assert not report.drifted, report.to_markdown()


@pytest.mark.parametrize("intensity", [1.0, 0.4])
def test_covariate_shift_is_detected_and_named(profile, intensity):
    report = profile.compare(generate_day(dt.date(2026, 1, 12), scenario="covariate_shift", intensity=intensity))
    drifted = {c.column for c in report.columns if c.drifted}
    assert report.drifted and {"monthly_charges", "support_tickets_30d"} <= drifted


def test_reference_splits_do_not_alarm_above_the_false_alarm_rate():
    alpha, trials, alarms = 0.05, 150, 0
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame(
            {
                "x": rng.normal(size=1_200),
                "y": rng.exponential(size=1_200),
                "z": rng.choice(list("abcd"), 1_200),
            }
        )
        reference, current = frame.iloc[:900], frame.iloc[900:]
        alarms += ReferenceProfile.from_frame(reference, seed=seed).compare(current, alpha=alpha).drifted
    # the dataset verdict is a family-wise test at alpha: alarms must be binomially consistent with <= alpha
    assert stats.binomtest(alarms, trials, alpha, alternative="greater").pvalue > 0.01, alarms


def test_a_trivial_shift_in_a_huge_window_is_significant_but_not_drift():
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 200_000)})
    current = pd.DataFrame({"x": rng.normal(0.02, 1, 1_000_000)})
    column = ReferenceProfile.from_frame(reference).compare(current).columns[0]
    assert column.p_value_adjusted < 1e-6 and not column.drifted


def test_a_real_shift_in_a_small_window_is_drift():
    rng = np.random.default_rng(2)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 50_000)})
    current = pd.DataFrame({"x": rng.normal(0.5, 1, 300)})
    assert ReferenceProfile.from_frame(reference).compare(current).columns[0].drifted


def test_a_saved_profile_gives_the_same_report(profile, tmp_path):
    path = profile.save(tmp_path / "reference.profile")
    day = generate_day(dt.date(2026, 1, 12), scenario="covariate_shift")
    assert ReferenceProfile.load(path).compare(day).to_dict() == profile.compare(day).to_dict()


def test_the_report_carries_every_documented_field(profile):
    report = profile.compare(generate_day(dt.date(2026, 1, 12))).to_dict()
    assert {"drifted", "share_drifted", "alpha"} <= set(report["dataset"])
    for column in report["columns"]:
        assert {
            "column",
            "kind",
            "test",
            "statistic",
            "p_value",
            "p_value_adjusted",
            "effect_size",
            "threshold",
            "drifted",
        } <= set(column)


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        (pd.DataFrame({"x": []}), pd.DataFrame({"x": [1.0]}), "empty"),
        (pd.DataFrame({"x": [np.nan] * 5}), pd.DataFrame({"x": [1.0]}), "no non-missing"),
        (pd.DataFrame({"x": [1.0, 2.0] * 20}), pd.DataFrame({"y": [1.0]}), "no column in common"),
        (pd.DataFrame({"x": [1.0, "a"] * 20}), pd.DataFrame({"x": [1.0]}), "mixes numbers and text"),
        (pd.DataFrame({"x": [1.0, 2.0] * 20}), pd.DataFrame({"x": [np.nan, np.nan]}), "no non-missing"),
    ],
    ids=["empty-reference", "all-nan-reference", "mismatched-columns", "mixed-types", "all-nan-current"],
)
def test_bad_inputs_end_in_a_clear_error(reference, current, message):
    with pytest.raises(DriftInputError, match=message):
        ReferenceProfile.from_frame(reference).compare(current)


def test_a_constant_column_is_a_defined_result():
    reference = pd.DataFrame({"x": [3.0] * 500})
    same = ReferenceProfile.from_frame(reference).compare(pd.DataFrame({"x": [3.0] * 100}))
    moved = ReferenceProfile.from_frame(reference).compare(pd.DataFrame({"x": [4.0] * 100}))
    assert not same.drifted and moved.drifted


cells = st.one_of(st.floats(allow_nan=True, allow_infinity=False, width=32), st.text(max_size=3), st.none())


@settings(max_examples=60, deadline=None)
@given(ref=st.lists(cells, min_size=0, max_size=60), cur=st.lists(cells, min_size=0, max_size=30))
def test_any_input_ends_in_a_report_or_a_drift_input_error(ref, cur):
    try:
        report = ReferenceProfile.from_frame(pd.DataFrame({"x": ref})).compare(pd.DataFrame({"x": cur}))
    except DriftInputError:
        return
    assert report.columns[0].column == "x" and 0.0 <= report.columns[0].p_value <= 1.0
