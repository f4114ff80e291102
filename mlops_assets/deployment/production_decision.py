"""What ``production_deployment`` decides about the challenger on canary (pure logic, no Dagster).

The asset reads the registry aliases, the routing table and the gateway's prediction log; these functions
turn them into the canary verdict and the decision: roll back, send through the promotion gate, or keep
collecting evidence. The asset carries the decision out (aliases, tags, routing) and records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_assets.deployment.canary import (
    CONTINUE,
    PROMOTE,
    ROLLBACK,
    ArmStats,
    CanaryPolicy,
    CanaryVerdict,
    evaluate,
)

if TYPE_CHECKING:
    import pandas as pd

APPROVED, AWAITING_APPROVAL = "approved", "awaiting_approval"
"""The promotion gate's answers besides "refused"."""


def arm_stats(log: pd.DataFrame | None, salt: str) -> dict[str, ArmStats]:
    """What each arm of the canary ``salt`` served, from the gateway's prediction log."""
    arms = {"champion": ArmStats(), "challenger": ArmStats()}
    if getattr(log, "empty", True) or "salt" not in log.columns:
        return arms
    for arm, rows in log[log["salt"] == salt].groupby("arm"):
        if arm not in arms:
            continue
        stats = arms[arm]
        stats.requests = len(rows)
        stats.errors = int(rows["fallback"].sum())
        stats.latencies_ms = rows["latency_ms"].astype(float).tolist()
        stats.scores = rows.loc[~rows["fallback"], "score"].astype(float).tolist()
    return arms


def canary_verdict(
    champion: str | None,
    challenger: str | None,
    on_canary: str | None,
    arms: dict[str, ArmStats],
    policy: CanaryPolicy,
) -> CanaryVerdict | None:
    """The verdict on the challenger (versions as strings), or None when there is no challenger to decide on.

    The first model has no champion to be compared with, so it goes straight to the promotion gate; a
    challenger not routed yet keeps collecting.
    """
    if champion is None and challenger is not None:
        return CanaryVerdict(PROMOTE, ["first model: no champion to compare with on live traffic"], {})
    if challenger is None or challenger == champion:
        return None
    if on_canary != challenger:
        return CanaryVerdict(CONTINUE, [f"v{challenger} is not on canary yet"], {})
    return evaluate(arms["challenger"], arms["champion"], policy)


@dataclass(frozen=True)
class Decision:
    """The decision as recorded; ``retire_as`` is the ``deploy.status`` of a challenger taken off its canary."""

    text: str
    reasons: list[str]
    version: str | None = None
    retire_as: str | None = None
    to_gate: bool = False
    promoted: bool = False
    awaiting_approval: bool = False

    @property
    def ends_canary(self) -> bool:
        """Every request goes back to the champion: no challenger, or it was promoted or rolled back."""
        return self.version is None or self.promoted or self.retire_as is not None


def decide(verdict: CanaryVerdict | None, challenger: str | None, canary_expired: bool) -> Decision:
    """The decision before the promotion gate: roll back on degradation or expiry, gate on promote, else wait."""
    if verdict is None or challenger is None:
        return Decision("no challenger", ["nothing on canary"])
    reasons = list(verdict.reasons)
    if verdict.decision == ROLLBACK:
        return Decision(f"v{challenger} rolled back (degraded on live traffic)", reasons, challenger, "rolled_back")
    if canary_expired and verdict.decision != PROMOTE:
        text = f"v{challenger} rolled back (not enough evidence within the canary's time limit)"
        return Decision(text, reasons, challenger, "expired")
    if verdict.decision == PROMOTE:
        return Decision(f"v{challenger}: keep collecting evidence", reasons, challenger, to_gate=True)
    return Decision(f"v{challenger}: keep collecting evidence", reasons, challenger)


def after_gate(status: str, version: str, reasons: list[str]) -> Decision:
    """The decision once the promotion gate has answered ``status`` for ``version``."""
    if status == APPROVED:
        return Decision(f"v{version} promoted", reasons, version, promoted=True)
    if status == AWAITING_APPROVAL:
        text = f"v{version} awaiting approval (mlops approve {version} --by NAME)"
        return Decision(text, reasons, version, awaiting_approval=True)
    return Decision(f"v{version} rolled back (refused by the promotion gate)", reasons, version, "refused")
