"""The canary sensor: once a challenger has served enough live traffic, launch its production decision.

It reads the registry aliases, the routing table and the gateway's prediction log, asks ``decision_due``
and requests the ``deploy`` job (``production_deployment``) with the answer's key as ``run_key``: one
decision per canary, per first model and per recorded approval, also across daemon restarts and run retries.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from mlops_assets.deployment.decision_policy import CanaryState, EvidencePolicy, decision_due
from mlops_assets.run_tags import REASON_TAG, TRIGGER_TAG
from mlops_assets.serving.routing import Routing
from resources.model_registry import ModelRegistryResource
from resources.serving import ServingResource
from sensors.jobs import DEPLOY_JOB
from sensors.settings import (
    AUTO_APPROVER,
    CANARY_MAX_SECONDS,
    DEFAULT_STATUS,
    INTERVAL_SECONDS,
)

POLICY = EvidencePolicy(max_canary_seconds=CANARY_MAX_SECONDS)


def _state(registry: ModelRegistryResource, serving: ServingResource) -> CanaryState:
    champion, challenger = registry.version_by_alias("champion"), registry.version_by_alias("challenger")
    routing = Routing.load(serving.routing_path) if serving.routing_path.exists() else Routing()
    requests = serving.prediction_log().arm_counts(routing.salt) if routing.challenger_version else {}
    tags = challenger.tags if challenger is not None else {}
    return CanaryState(
        champion=str(champion.version) if champion else None,
        challenger=str(challenger.version) if challenger else None,
        on_canary=routing.challenger_version,
        salt=routing.salt,
        started_at=dt.datetime.fromisoformat(routing.started_at) if routing.started_at else None,
        requests=requests,
        approval_status=tags.get("approval.status", ""),
        approved_at=tags.get("approval.approved_at", "") if tags.get("approval.approved_by") else "",
    )


@dg.sensor(
    job=DEPLOY_JOB,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=DEFAULT_STATUS,
    description="Decide promotion or rollback once the canary has enough evidence (or its time is up).",
)
def canary_sensor(
    context: dg.SensorEvaluationContext, registry: ModelRegistryResource, serving: ServingResource
) -> dg.SensorResult:
    state = _state(registry, serving)
    due = decision_due(state, POLICY, dt.datetime.now(dt.UTC))
    if due is None:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"challenger {state.challenger or 'none'}: no decision due ({state.requests})")
        )
    config: dict = {"min_requests": POLICY.min_requests, "canary_expired": due.expired}
    if AUTO_APPROVER:
        config |= {"approved_by": AUTO_APPROVER, "automatic_approval": True}
    context.log.info(f"deciding on v{state.challenger}: {due.reason}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=due.key,
                run_config={"ops": {"production_deployment": {"config": config}}},
                tags={TRIGGER_TAG: due.key, REASON_TAG: due.reason[:200]},
            )
        ]
    )
