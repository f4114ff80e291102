"""The promotion gate: floor first, then margin over the champion, then (where required) a recorded approval."""

from __future__ import annotations

import pytest

from mlops_assets.registry.promotion import Approval, GatePolicy, decide

METRIC = "oot_roc_auc"
# Binary fractions, so "gain == margin" is exact and the boundary really is tested.
FLOOR, MARGIN = 0.75, 0.0625
POLICY = GatePolicy(metric=METRIC, floor=FLOOR, min_improvement=MARGIN, approval_required=False)
PERSON = Approval("alice@example.com", "2026-01-22T10:00:00+00:00", automatic=False)
AUTOMATIC = Approval("mlops demo", "2026-01-22T10:00:00+00:00", automatic=True)


def _metrics(value: float | None) -> dict[str, float] | None:
    return None if value is None else {METRIC: value}


@pytest.mark.parametrize(
    ("challenger", "champion", "promote", "says"),
    [
        pytest.param(0.8125, None, True, "no champion yet", id="first-model-above-floor"),
        pytest.param(FLOOR, None, True, "clears the floor", id="first-model-exactly-at-floor"),
        pytest.param(0.5, None, False, "below the floor", id="first-model-below-floor"),
        pytest.param(0.5, 0.25, False, "below the floor", id="below-floor-though-better-than-champion"),
        pytest.param(float("nan"), None, False, "below the floor", id="nan-metric"),
        pytest.param(0.8125, 0.8125, False, "below the required margin", id="tie"),
        pytest.param(0.8125, 0.875, False, "below the required margin", id="worse-than-champion"),
        pytest.param(0.8125 + MARGIN - 0.001, 0.8125, False, "below the required margin", id="gain-just-short"),
        pytest.param(0.8125 + MARGIN, 0.8125, True, "beats the champion", id="gain-exactly-margin"),
        pytest.param(0.9375, 0.8125, True, "beats the champion", id="gain-above-margin"),
    ],
)
def test_the_gate_applies_the_floor_then_the_margin(
    challenger: float, champion: float | None, promote: bool, says: str
):
    decision = decide(_metrics(challenger), _metrics(champion), POLICY)
    assert decision.promote is promote
    assert not decision.awaiting_approval
    assert says in decision.reasons[-1], decision.reasons


def test_a_refusal_by_margin_states_the_gain_and_both_scores():
    decision = decide({METRIC: 0.8125}, {METRIC: 0.8}, POLICY)
    assert not decision.promote
    assert "+0.0125" in decision.reasons[-1] and "0.8125" in decision.reasons[-1] and "0.8000" in decision.reasons[-1]


def test_a_required_approval_that_is_missing_holds_a_passing_model():
    policy = GatePolicy(floor=FLOOR, min_improvement=MARGIN, approval_required=True)
    decision = decide({METRIC: 0.9375}, {METRIC: 0.8125}, policy, approval=None)
    assert decision.promote is False
    assert decision.awaiting_approval is True
    assert "approval required" in decision.reasons[-1]


def test_a_model_below_the_floor_is_refused_not_left_awaiting_approval():
    policy = GatePolicy(floor=FLOOR, approval_required=True)
    decision = decide({METRIC: 0.5}, None, policy, approval=None)
    assert decision.promote is False and decision.awaiting_approval is False


@pytest.mark.parametrize(
    ("approval", "how"),
    [pytest.param(AUTOMATIC, "automatically", id="automatic"), pytest.param(PERSON, "by a person", id="person")],
)
@pytest.mark.parametrize("required", [True, False], ids=["required", "optional"])
def test_a_recorded_approval_promotes_and_names_the_approver_and_how(approval: Approval, how: str, required: bool):
    policy = GatePolicy(floor=FLOOR, min_improvement=MARGIN, approval_required=required)
    decision = decide({METRIC: 0.9375}, {METRIC: 0.8125}, policy, approval)
    assert decision.promote is True and not decision.awaiting_approval
    assert approval.approved_by in decision.reasons[-1]
    assert how in decision.reasons[-1]
    assert ("automatically" in decision.reasons[-1]) is approval.automatic


@pytest.mark.parametrize(
    ("challenger", "champion"),
    [pytest.param(0.5, None, id="below-floor"), pytest.param(0.8125, 0.8125, id="below-margin")],
)
def test_an_approval_never_overrides_the_floor_or_the_margin(challenger: float, champion: float | None):
    policy = GatePolicy(floor=FLOOR, min_improvement=MARGIN, approval_required=True)
    decision = decide({METRIC: challenger}, _metrics(champion), policy, PERSON)
    assert decision.promote is False
    assert PERSON.approved_by not in " ".join(decision.reasons)


@pytest.mark.parametrize("metric", ["oot_roc_auc", "pr_auc"])
def test_a_missing_metric_raises_a_key_error_naming_it(metric: str):
    with pytest.raises(KeyError, match=metric):
        decide({"accuracy": 0.9}, None, GatePolicy(metric=metric))
