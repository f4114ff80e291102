from scipy import stats

from mlops_assets.core.traffic import CHALLENGER, CHAMPION, bucket, route


def test_an_entity_always_lands_on_the_same_arm_for_a_rollout():
    arms = {route(123_456, 0.3, salt="rollout-7") for _ in range(50)}
    assert len(arms) == 1


def test_observed_challenger_share_matches_the_configured_share():
    # given 20k entities and a 10% canary, when routed, then the count is binomially consistent with 10%
    n = 20_000
    hits = sum(route(entity, 0.1, salt="canary-v3") == CHALLENGER for entity in range(n))
    assert stats.binomtest(hits, n, 0.1).pvalue > 0.001


def test_different_salts_give_independent_splits():
    first = [route(e, 0.5, "a") for e in range(4_000)]
    second = [route(e, 0.5, "b") for e in range(4_000)]
    agree = sum(x == y for x, y in zip(first, second, strict=True))
    assert stats.binomtest(agree, 4_000, 0.5).pvalue > 0.001


def test_share_zero_and_one_route_everything_to_one_arm():
    assert {route(e, 0.0, "s") for e in range(500)} == {CHAMPION}
    assert {route(e, 1.0, "s") for e in range(500)} == {CHALLENGER}


def test_buckets_are_uniform_on_the_unit_interval():
    values = [bucket(e, "uniform") for e in range(5_000)]
    assert stats.kstest(values, "uniform").pvalue > 0.001


def test_a_share_outside_the_unit_interval_is_refused_with_its_value():
    import pytest

    with pytest.raises(ValueError, match=r"1\.5"):
        route(1, 1.5, "s")
