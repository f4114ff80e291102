"""The promotion gate: may a challenger replace the champion? Pure logic, no Dagster.

A challenger must clear an absolute floor (a bad model never ships because the champion is worse still),
beat the champion by a configured margin (a tie is not worth a deployment), and, where the profile asks for
it, carry a recorded human approval. Every refusal says which rule failed and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GatePolicy:
    """``metric`` is higher-is-better; ``approval_required`` is on unless a profile turns it off.

    These defaults are the only ones: ``PromotionConfig`` (the Launchpad's fields) takes its defaults from here.
    """

    metric: str = "oot_roc_auc"
    floor: float = 0.70
    min_improvement: float = 0.002
    approval_required: bool = True


@dataclass(frozen=True)
class Approval:
    """Who approved a promotion, and when (ISO time); ``automatic`` marks the demo's self-approval."""

    approved_by: str
    approved_at: str
    automatic: bool = False


@dataclass(frozen=True)
class GateDecision:
    """Promote or not, why, and whether only an approval is missing."""

    promote: bool
    reasons: list[str] = field(default_factory=list)
    awaiting_approval: bool = False


def decide(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    policy: GatePolicy,
    approval: Approval | None = None,
) -> GateDecision:
    """Apply floor, margin and approval rules in that order and explain the outcome."""
    if policy.metric not in challenger:
        raise KeyError(f"challenger metrics lack {policy.metric!r}; have {sorted(challenger)}")
    value = challenger[policy.metric]
    reasons: list[str] = []
    if not value >= policy.floor:
        return GateDecision(False, [f"{policy.metric} {value:.4f} is below the floor {policy.floor:.4f}"])
    reasons.append(f"{policy.metric} {value:.4f} clears the floor {policy.floor:.4f}")
    if champion is not None and policy.metric in champion:
        incumbent = champion[policy.metric]
        gain = value - incumbent
        if gain < policy.min_improvement:
            return GateDecision(
                False,
                [
                    *reasons,
                    f"gain over champion {gain:+.4f} ({value:.4f} vs {incumbent:.4f}) "
                    f"is below the required margin {policy.min_improvement:.4f}",
                ],
            )
        reasons.append(f"beats the champion by {gain:+.4f} (margin {policy.min_improvement:.4f})")
    else:
        reasons.append("no champion yet: the first model that clears the floor becomes champion")
    if policy.approval_required and approval is None:
        return GateDecision(False, [*reasons, "approval required and none recorded"], awaiting_approval=True)
    if approval is not None:
        how = "automatically (demo)" if approval.automatic else "by a person"
        reasons.append(f"approved {how}: {approval.approved_by} at {approval.approved_at}")
    return GateDecision(True, reasons)
