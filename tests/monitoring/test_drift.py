import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.monitoring.drift import (
    CategoryCells,
    DriftInputError,
    categorical_effect,
    chi2_test,
    compared_cells,
    ks_test,
    ks_wasserstein,
    kstwo_sf,
    subset_wasserstein,
)
from mlops_assets.monitoring.drift_profile import ReferenceProfile

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


cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.text(max_size=3), st.none())


def _strict_json(text: str) -> dict:
    """Parse as any JSON reader would: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


@settings(max_examples=60, deadline=None)
@given(ref=st.lists(cells, min_size=0, max_size=60), cur=st.lists(cells, min_size=0, max_size=30))
def test_any_input_ends_in_a_report_or_a_drift_input_error(ref, cur):
    try:
        report = ReferenceProfile.from_frame(pd.DataFrame({"x": ref})).compare(pd.DataFrame({"x": cur}))
    except DriftInputError:
        return
    # the column is either tested, with finite numbers, or reported untestable with a reason
    assert [c.column for c in report.columns + report.untestable] == ["x"]
    for column in report.columns:
        assert 0.0 <= column.p_value <= 1.0 and math.isfinite(column.effect_size) and math.isfinite(column.threshold)
    assert all(c.reason for c in report.untestable)
    _strict_json(json.dumps(report.to_dict(), allow_nan=False))


def _with_infinities(values: np.ndarray, count: int, seed: int) -> np.ndarray:
    values = values.copy()
    at = np.random.default_rng(seed).choice(len(values), count, replace=False)
    values[at] = np.where(np.arange(len(at)) % 2, np.inf, -np.inf)
    return values


@pytest.mark.parametrize(("reference_inf", "current_inf"), [(20, 0), (4_000, 0), (200, 50), (0, 250)], ids=str)
def test_a_shifted_window_is_flagged_whatever_infinities_either_side_holds(reference_inf, current_inf):
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": _with_infinities(rng.normal(0, 1, 20_000), reference_inf, 1)})
    current = pd.DataFrame({"x": _with_infinities(rng.normal(1, 1, 5_000), current_inf, 2)})
    column = ReferenceProfile.from_frame(reference).compare(current).columns[0]
    assert column.drifted and math.isfinite(column.effect_size) and math.isfinite(column.threshold)
    assert (column.nonfinite_reference, column.nonfinite_current) == (reference_inf, current_inf)
    assert (column.rows_reference, column.rows_current) == (20_000 - reference_inf, 5_000 - current_inf)


@pytest.mark.parametrize("reference_inf", [20, 4_000])
def test_infinities_in_the_reference_do_not_alarm_on_a_same_distribution_window(reference_inf):
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"x": _with_infinities(rng.normal(0, 1, 20_000), reference_inf, 1)})
    report = ReferenceProfile.from_frame(reference).compare(pd.DataFrame({"x": rng.normal(0, 1, 5_000)}))
    assert not report.drifted and not report.untestable


@pytest.mark.parametrize(
    ("reference", "current", "reason"),
    [
        ([np.inf, -np.inf] * 50, list(range(100)), "the reference has no finite values (100 are +-inf)"),
        (list(range(100)), [np.inf] * 30, "the current window has no finite values (30 are +-inf)"),
    ],
    ids=["all-inf-reference", "all-inf-current"],
)
def test_a_column_without_finite_values_is_untestable_not_undrifted(reference, current, reason):
    report = ReferenceProfile.from_frame(pd.DataFrame({"x": reference})).compare(pd.DataFrame({"x": current}))
    assert report.columns == [] and report.to_dict()["dataset"]["untestable_columns"] == ["x"]
    assert report.untestable[0].reason == reason and "not tested" in report.to_markdown()


def _ids(prefix: str, rows: int, seed: int, distinct: int = 20_000, zipf: float | None = None) -> pd.Series:
    """A high-cardinality string column: ``rows`` draws among ``distinct`` ids, uniform or Zipf-weighted."""
    weights = None if zipf is None else np.arange(1, distinct + 1) ** -zipf
    drawn = np.random.default_rng(seed).choice(distinct, rows, p=None if weights is None else weights / weights.sum())
    return pd.Series(np.char.add(prefix, drawn.astype(str)))


@pytest.fixture(scope="module", params=[None, 1.1], ids=["uniform-ids", "zipf-ids"])
def ids_profile(request) -> tuple[ReferenceProfile, float | None]:
    return ReferenceProfile.from_frame(pd.DataFrame({"id": _ids("a", 100_000, 0, zipf=request.param)})), request.param


@pytest.mark.parametrize("unseen", [1.0, 0.3, 0.1])
def test_unseen_high_cardinality_categories_are_flagged_with_their_share(ids_profile, unseen):
    profile, zipf = ids_profile
    new = int(100_000 * unseen)
    current = pd.concat([_ids("a", 100_000 - new, 1, zipf=zipf), _ids("b", new, 2, zipf=zipf)])
    report = profile.compare(pd.DataFrame({"id": current}))
    column = report.columns[0]
    assert column.drifted and column.effect_size > column.threshold
    assert column.unseen_share >= unseen and column.unseen_share_expected < 0.1
    assert f"unseen categories {column.unseen_share:.1%}" in report.to_markdown()


@pytest.mark.parametrize("rows", [100_000, 3_000])
@pytest.mark.parametrize("seed", [5, 6])
def test_a_same_distribution_sample_of_a_high_cardinality_column_is_not_flagged(ids_profile, rows, seed):
    profile, zipf = ids_profile
    column = profile.compare(pd.DataFrame({"id": _ids("a", rows, seed, zipf=zipf)})).columns[0]
    assert not column.drifted, column
    assert column.unseen_share == pytest.approx(column.unseen_share_expected, abs=0.02)


def test_a_column_of_identifiers_is_untestable_not_undrifted():
    reference = pd.DataFrame({"id": [f"a{i}" for i in range(100_000)]})
    current = pd.DataFrame({"id": [f"b{i}" for i in range(100_000)]})
    report = ReferenceProfile.from_frame(reference).compare(current)
    assert report.columns == [] and report.untestable[0].unseen_share == 1.0
    assert "occurs once" in report.untestable[0].reason


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        (pd.DataFrame({"x": [np.inf, 1.0, 2.0] * 100}), pd.DataFrame({"x": [5.0, 6.0] * 100})),
        (pd.DataFrame({"x": [1.0, 2.0] * 100}), pd.DataFrame({"x": [np.inf, -np.inf] * 10})),
        (pd.DataFrame({"id": [f"a{i}" for i in range(1_000)]}), pd.DataFrame({"id": [f"b{i}" for i in range(1_000)]})),
    ],
    ids=["inf-reference", "all-inf-current", "identifiers"],
)
def test_the_report_is_strict_json(reference, current):
    report = ReferenceProfile.from_frame(reference).compare(current).to_dict()
    assert _strict_json(json.dumps(report, allow_nan=False)) == report


def test_a_saved_profile_calibrated_on_infinities_by_an_older_engine_must_be_rebuilt(tmp_path):
    profile = ReferenceProfile.from_frame(pd.DataFrame({"x": np.arange(100.0)}))
    profile.columns["x"].natural_effect = float("nan")  # what +-inf in the reference used to leave behind
    with pytest.raises(DriftInputError, match=r"'x' was calibrated on \+-inf .* rebuild the profile"):
        ReferenceProfile.load(profile.save(tmp_path / "old.profile"))


@pytest.mark.parametrize(
    ("n1", "n2"), [(300, 500), (50_000, 5_000), (20_000, 60_000)], ids=["exact", "asymp", "big-window"]
)
def test_ks_and_wasserstein_from_one_merge_equal_scipys(n1, n2):
    rng = np.random.default_rng(n2)
    a, b = np.sort(rng.normal(0, 1, n1).round(2)), np.sort(rng.normal(0.1, 1.2, n2).round(2))  # many ties
    statistic, p_value, wasserstein = ks_wasserstein(a, b)
    expected = stats.ks_2samp(a, b)
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


@pytest.mark.parametrize("n", [141, 4_545, 15_385, 166_667])
@pytest.mark.parametrize("n_d_squared", [2.2, 3.0, 8.0, 40.0, 300.0])
def test_the_fast_kolmogorov_tail_equals_scipys(n, n_d_squared):
    d = math.sqrt(n_d_squared / n)
    assert kstwo_sf(d, n) == pytest.approx(stats.kstwo.sf(d, n), rel=1e-9)


def test_calibration_draws_measure_what_scipy_measures_on_each_subset():
    # Given: one column of each kind and random subsets of its rows (as masks)
    rng = np.random.default_rng(7)
    values = np.sort(rng.exponential(size=3_000).round(1))
    codes = rng.choice(12, 3_000, p=np.r_[np.full(6, 0.15), np.full(6, 0.1 / 6)])
    inside = rng.random((25, 3_000)) < rng.uniform(0.05, 0.5, (25, 1))
    # When: every subset is measured against the rest in one pass
    distances = subset_wasserstein(values, inside)
    counts = np.stack([np.bincount(codes[m], minlength=12) for m in inside])
    reference, current = compared_cells(np.bincount(codes, minlength=12) - counts, counts)
    # Then: each equals scipy's distance between that subset and the rest, cell for cell
    for k, mask in enumerate(inside):
        assert distances[k] == pytest.approx(stats.wasserstein_distance(values[~mask], values[mask]), rel=1e-9)
        cells = CategoryCells.of(np.bincount(codes[~mask], minlength=12), counts[k])
        assert jensenshannon(reference[k], current[k], base=2) == pytest.approx(categorical_effect(cells), abs=1e-12)


def test_the_same_seed_gives_the_same_profile_and_report(reference):
    first = ReferenceProfile.from_frame(reference[COLUMNS], seed=3)
    second = ReferenceProfile.from_frame(reference[COLUMNS], seed=3)
    day = generate_day(dt.date(2026, 1, 12), scenario="covariate_shift", intensity=0.4)
    assert first.compare(day).to_dict() == second.compare(day).to_dict()
    assert [(c.natural_effect, c.noise_scale) for c in first.columns.values()] == [
        (c.natural_effect, c.noise_scale) for c in second.columns.values()
    ]


@pytest.mark.parametrize("kind", ["category", "string[pyarrow]", "string[python]"])
def test_strings_give_the_same_report_in_any_pandas_representation(kind):
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"c": rng.choice(["a", "b", "c", None], 20_000, p=[0.5, 0.3, 0.15, 0.05])})
    current = pd.DataFrame({"c": rng.choice(["a", "b", "c", "d"], 3_000, p=[0.4, 0.3, 0.2, 0.1])})
    expected = ReferenceProfile.from_frame(reference).compare(current).to_dict()
    report = ReferenceProfile.from_frame(reference.astype(kind)).compare(current.astype(kind)).to_dict()
    assert report == expected and report["dataset"]["drifted"]


@pytest.mark.parametrize("kind", ["int64", "Int64", "float32"])
def test_numbers_give_the_same_report_in_any_numeric_dtype(kind):
    rng = np.random.default_rng(9)
    reference = pd.DataFrame({"x": rng.poisson(20, 20_000)})
    current = pd.DataFrame({"x": rng.poisson(21, 3_000)})
    expected = ReferenceProfile.from_frame(reference.astype("float64")).compare(current).to_dict()
    assert ReferenceProfile.from_frame(reference.astype(kind)).compare(current.astype(kind)).to_dict() == expected
