import numpy as np
import pytest

from mlops_assets.deployment.canary import CONTINUE, PROMOTE, ROLLBACK, ArmStats, CanaryPolicy, evaluate


def _arm(rng, requests, error_rate=0.0, latency_ms=1.0, score_mean=0.15, accuracy=None):
    errors = int(rng.binomial(requests, error_rate))
    arm = ArmStats(
        errors=errors,
        requests=requests,
        latencies_ms=list(rng.gamma(4.0, latency_ms / 4.0, requests)),
        scores=list(np.clip(rng.normal(score_mean, 0.08, requests), 0, 1)),
    )
    if accuracy is not None:
        arm.labelled = requests
        arm.correct = int(rng.binomial(requests, accuracy))
    return arm


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def test_a_challenger_as_good_as_the_champion_is_promoted_after_enough_requests(rng):
    verdict = evaluate(_arm(rng, 600, accuracy=0.85), _arm(rng, 600, accuracy=0.85), CanaryPolicy(min_requests=500))
    assert verdict.decision == PROMOTE


def test_too_few_requests_keep_the_canary_running(rng):
    verdict = evaluate(_arm(rng, 50), _arm(rng, 50), CanaryPolicy(min_requests=200))
    assert verdict.decision == CONTINUE
    assert "need 200" in verdict.reasons[0]


@pytest.mark.parametrize(
    ("challenger_kwargs", "reason"),
    [
        ({"error_rate": 0.2}, "error rate"),
        ({"latency_ms": 5.0}, "latency"),
        ({"score_mean": 0.6}, "score distribution"),
        ({"accuracy": 0.6}, "accuracy"),
    ],
    ids=["errors", "latency", "prediction-shift", "accuracy"],
)
def test_a_degraded_challenger_is_rolled_back_naming_what_degraded(rng, challenger_kwargs, reason):
    challenger = _arm(rng, 400, **{"accuracy": 0.85, **challenger_kwargs})
    champion = _arm(rng, 400, accuracy=0.85)
    verdict = evaluate(challenger, champion, CanaryPolicy())
    assert verdict.decision == ROLLBACK
    assert any(reason in r for r in verdict.reasons)
    assert all("p_value" in t for t in verdict.tests.values())


def test_a_healthy_canary_does_not_roll_back_at_more_than_the_false_alarm_rate():
    policy = CanaryPolicy(alpha=0.01, min_requests=100)
    rollbacks = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        if evaluate(_arm(rng, 300, accuracy=0.8), _arm(rng, 300, accuracy=0.8), policy).decision == ROLLBACK:
            rollbacks += 1
    # alpha=1% family-wise; allow binomial slack at 200 trials (P[X >= 7 | p=0.01] < 0.5%)
    assert rollbacks < 7
