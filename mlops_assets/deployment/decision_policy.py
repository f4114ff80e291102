"""When a challenger is due for its production decision (pure logic, no Dagster).

The canary sensor reads the registry aliases, the routing table and how many requests each arm has served,
and asks ``decision_due``. The answer's ``key`` becomes the decision run's ``run_key``: one decision per
canary (its salt), one per first model, and one more per recorded approval, so a daemon restart or a
retried run never decides twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvidencePolicy:
    """Requests each arm must serve, or how long a canary may run, before the decision is taken."""

    min_requests: int = 200
    max_canary_seconds: float = 3_600.0


@dataclass(frozen=True)
class CanaryState:
    """What the sensor saw: aliases, the routed canary, requests per arm, and the challenger's approval tags."""

    champion: str | None
    challenger: str | None
    on_canary: str | None = None
    salt: str = ""
    started_at: dt.datetime | None = None
    requests: dict[str, int] = field(default_factory=dict)
    approval_status: str = ""
    approved_at: str = ""


@dataclass(frozen=True)
class DecisionRequest:
    """A production decision to launch: ``key`` is its run key; ``expired`` when the time limit ended it."""

    key: str
    reason: str
    expired: bool = False


def decision_due(state: CanaryState, policy: EvidencePolicy, now: dt.datetime) -> DecisionRequest | None:
    """The decision to launch now, or None while there is nothing to decide or evidence is still coming in."""
    if state.challenger is None or state.challenger == state.champion:
        return None
    if state.champion is None:
        return DecisionRequest(f"first:v{state.challenger}", "first model: straight to the promotion gate")
    if state.approval_status == "awaiting_approval" and state.approved_at:
        return DecisionRequest(f"approved:v{state.challenger}:{state.approved_at}", "approval recorded")
    if state.on_canary != state.challenger:
        return None
    served = {arm: state.requests.get(arm, 0) for arm in ("champion", "challenger")}
    if min(served.values()) >= policy.min_requests:
        return DecisionRequest(
            f"canary:{state.salt}",
            f"enough evidence: {served['challenger']} challenger / {served['champion']} champion requests",
        )
    if state.started_at is not None and (now - state.started_at).total_seconds() >= policy.max_canary_seconds:
        return DecisionRequest(
            f"canary:{state.salt}", f"canary time limit {policy.max_canary_seconds:.0f} s reached", expired=True
        )
    return None
