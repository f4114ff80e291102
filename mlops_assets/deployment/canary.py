"""The canary verdict: roll back, promote, or keep collecting evidence (pure logic; scipy statistics).

The challenger is compared with the champion on the live traffic each served: error rate (Fisher's exact
test), latency (Mann-Whitney U, one-sided), prediction distribution (two-sample KS) and, once labels have
arrived, accuracy (Fisher's exact test on correct/incorrect counts). Any significant degradation rolls back
at once; promotion needs a minimum number of requests with no degradation found. Tests are one-sided
("is the challenger worse?") and Bonferroni-corrected over the checks actually run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pydantic import BaseModel, ConfigDict, Field

ROLLBACK = "rollback"
PROMOTE = "promote"
CONTINUE = "continue"


class CanaryPolicy(BaseModel):
    """Significance level, evidence needed to promote, and the degradations that matter.

    Defaults and bounds live on the fields once: ``ProductionConfig`` reuses them, so a run config outside
    them fails the step before anything moves, naming the field.
    """

    model_config = ConfigDict(frozen=True)

    alpha: float = Field(0.01, gt=0.0, lt=1.0, description="family-wise significance, split over the tests run")
    min_requests: int = Field(200, ge=1, description="requests each arm serves before a promotion can happen")
    max_latency_ratio: float = Field(1.5, ge=1.0, description="median-latency ratio a slower challenger may reach")
    max_score_ks: float = Field(
        0.25, gt=0.0, le=1.0, description="KS distance of the scores a retrained challenger may drift by"
    )


@dataclass
class ArmStats:
    """What one arm served: per-request errors, latencies (ms), scores, and labelled correctness."""

    errors: int = 0
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    correct: int = 0
    labelled: int = 0


@dataclass
class CanaryVerdict:
    """``rollback``, ``promote`` or ``continue``, with reasons and every test's numbers."""

    decision: str
    reasons: list[str]
    tests: dict[str, dict[str, float]]

    def to_dict(self) -> dict:
        return asdict(self)


def _fisher_worse(bad_a: int, n_a: int, bad_b: int, n_b: int) -> float:
    from scipy import stats

    """p-value that arm a has a higher 'bad' rate than arm b."""
    table = [[bad_a, n_a - bad_a], [bad_b, n_b - bad_b]]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


def evaluate(challenger: ArmStats, champion: ArmStats, policy: CanaryPolicy) -> CanaryVerdict:
    """Decide on the evidence so far; every test's statistic and p-value is returned for the record."""
    import numpy as np
    from scipy import stats  # here, not at import: the Definitions load this module

    tests: dict[str, dict[str, float]] = {}
    if challenger.requests and champion.requests:
        tests["error_rate"] = {
            "challenger": challenger.errors / challenger.requests,
            "champion": champion.errors / champion.requests,
            "p_value": _fisher_worse(challenger.errors, challenger.requests, champion.errors, champion.requests),
        }
    if len(challenger.latencies_ms) >= 20 and len(champion.latencies_ms) >= 20:
        mw = stats.mannwhitneyu(challenger.latencies_ms, champion.latencies_ms, alternative="greater")
        ratio = float(np.median(challenger.latencies_ms) / max(np.median(champion.latencies_ms), 1e-9))
        tests["latency"] = {"median_ratio": ratio, "statistic": float(mw.statistic), "p_value": float(mw.pvalue)}
    if len(challenger.scores) >= 20 and len(champion.scores) >= 20:
        ks = stats.ks_2samp(challenger.scores, champion.scores)
        tests["prediction_distribution"] = {"statistic": float(ks.statistic), "p_value": float(ks.pvalue)}
    if challenger.labelled and champion.labelled:
        tests["accuracy"] = {
            "challenger": challenger.correct / challenger.labelled,
            "champion": champion.correct / champion.labelled,
            "p_value": _fisher_worse(
                challenger.labelled - challenger.correct,
                challenger.labelled,
                champion.labelled - champion.correct,
                champion.labelled,
            ),
        }
    alpha = policy.alpha / max(len(tests), 1)
    reasons = []
    if "error_rate" in tests and tests["error_rate"]["p_value"] < alpha:
        reasons.append(f"error rate {tests['error_rate']['challenger']:.3%} vs {tests['error_rate']['champion']:.3%}")
    lat = tests.get("latency")
    if lat and lat["p_value"] < alpha and lat["median_ratio"] > policy.max_latency_ratio:
        reasons.append(f"median latency x{lat['median_ratio']:.2f} (limit x{policy.max_latency_ratio})")
    dist = tests.get("prediction_distribution")
    if dist and dist["p_value"] < alpha and dist["statistic"] > policy.max_score_ks:
        reasons.append(f"score distribution shifted (KS {dist['statistic']:.3f} > {policy.max_score_ks})")
    acc = tests.get("accuracy")
    if acc and acc["p_value"] < alpha:
        reasons.append(f"accuracy {acc['challenger']:.3f} vs champion {acc['champion']:.3f}")
    if reasons:
        return CanaryVerdict(ROLLBACK, ["challenger degrades: " + r for r in reasons], tests)
    if min(challenger.requests, champion.requests) < policy.min_requests:
        return CanaryVerdict(
            CONTINUE,
            [
                f"{challenger.requests} challenger / {champion.requests} champion requests so far; "
                f"need {policy.min_requests} each before promoting"
            ],
            tests,
        )
    return CanaryVerdict(
        PROMOTE, [f"no degradation at alpha={policy.alpha} over {challenger.requests} requests"], tests
    )
