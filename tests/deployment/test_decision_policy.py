"""When the canary sensor asks for a production decision, and under which run key."""

from __future__ import annotations

import datetime as dt

import pytest

from mlops_assets.deployment.decision_policy import CanaryState, EvidencePolicy, decision_due

NOW = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
POLICY = EvidencePolicy(min_requests=200, max_canary_seconds=600)


def _canary(**changes) -> CanaryState:
    state = {
        "champion": "3",
        "challenger": "4",
        "on_canary": "4",
        "salt": "canary-v4",
        "started_at": NOW - dt.timedelta(seconds=60),
        "requests": {"champion": 900, "challenger": 100},
    }
    return CanaryState(**(state | changes))


def test_nothing_is_due_without_a_challenger_or_when_the_challenger_is_the_champion():
    assert decision_due(_canary(challenger=None), POLICY, NOW) is None
    assert decision_due(_canary(challenger="3"), POLICY, NOW) is None


def test_the_first_model_goes_straight_to_the_gate_once():
    due = decision_due(_canary(champion=None, on_canary=None, requests={}), POLICY, NOW)
    assert due is not None and due.key == "first:v4" and not due.expired


def test_a_challenger_not_yet_on_canary_waits():
    assert decision_due(_canary(on_canary=None), POLICY, NOW) is None


@pytest.mark.parametrize(("challenger_requests", "due"), [(199, False), (200, True), (5_000, True)])
def test_the_decision_waits_for_enough_requests_on_both_arms(challenger_requests, due):
    state = _canary(requests={"champion": 900, "challenger": challenger_requests})
    decision = decision_due(state, POLICY, NOW)
    assert (decision is not None) is due
    if due:
        assert decision.key == "canary:canary-v4" and "200" not in decision.key


def test_a_canary_past_its_time_limit_is_decided_as_expired_under_the_same_key():
    late = _canary(started_at=NOW - dt.timedelta(seconds=601))
    due = decision_due(late, POLICY, NOW)
    assert due is not None and due.expired and due.key == "canary:canary-v4"


def test_a_recorded_approval_asks_for_one_more_decision_keyed_by_the_approval():
    state = _canary(approval_status="awaiting_approval", approved_at="2026-02-01T12:00:00+00:00")
    due = decision_due(state, POLICY, NOW)
    assert due is not None and due.key == "approved:v4:2026-02-01T12:00:00+00:00"
    assert decision_due(_canary(approval_status="awaiting_approval"), POLICY, NOW) is None
