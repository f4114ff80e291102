"""``mlops approve VERSION --by NAME``: a person's approval of a promotion, recorded on the registry version.

Only a version that passed its canary and the gate and now waits for a person can be approved. The
approval is written as tags (who, when), the approval chain the registry keeps; the canary sensor sees it
and launches the production decision, which promotes through the same gate.
"""

from __future__ import annotations

import datetime as dt

from mlops_assets.cli.errors import UserError
from resources.model_registry import ModelRegistryResource


class ApprovalRefused(UserError):
    """The version cannot be approved; the message says why and what to do instead."""


def approve(registry: ModelRegistryResource, version: str, by: str) -> str:
    """Record ``by``'s approval of ``version``; returns a one-line confirmation."""
    if not by.strip():
        raise ApprovalRefused("--by must name the person approving")
    challenger = registry.version_by_alias("challenger")
    if challenger is None or str(challenger.version) != str(version):
        current = f"v{challenger.version}" if challenger else "none"
        raise ApprovalRefused(f"v{version} is not the challenger (the challenger is {current}): see `mlops status`")
    status = challenger.tags.get("approval.status", "")
    if status != "awaiting_approval":
        raise ApprovalRefused(f"v{version} is not awaiting approval (approval.status={status or 'unset'})")
    now = dt.datetime.now(dt.UTC).isoformat()
    registry.set_tags(version, {"approval.approved_by": by, "approval.approved_at": now, "approval.automatic": "false"})
    return f"v{version} approved by {by}; the canary sensor launches its production decision on its next tick"
