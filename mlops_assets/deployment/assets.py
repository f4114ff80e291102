"""Deployment: the Triton model repository, the canary, and promotion or rollback on live evidence.

``triton_model_repository`` writes champion, challenger and the baseline fallback from the registry (each
artifact's sha256 checked before Triton may see it). ``canary_deployment`` loads the challenger beside the
champion and routes a share of traffic to it. ``production_deployment`` reads what each arm served from
the gateway's prediction log and decides: roll back on degradation, promote (through the same gate and
approval as ``champion_model``) on enough evidence, or keep collecting.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG
from mlops_assets.deployment.canary import CanaryPolicy
from mlops_assets.registry.assets import PromotionConfig, apply_gate
from mlops_assets.registry.challenger import ChallengerRef
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.record_io_manager import read_record
from resources.serving import ServingResource
from resources.storage import LakeResource

if TYPE_CHECKING:
    from mlops_assets.deployment.canary import ArmStats, CanaryVerdict
    from mlops_assets.deployment.production_decision import Decision


@dg.asset(kinds={"triton", "onnx"}, deps=["registered_model"], code_version="2")
def triton_model_repository(registry: ModelRegistryResource, serving: ServingResource) -> dg.MaterializeResult:
    """One numbered directory per registry version (champion and challenger), plus the baseline fallback.

    Written for ``serving.device``: the Python backend on CPU, or Triton's onnxruntime backend with the
    models sharing one GPU (``MLOPS_TRITON_DEVICE=gpu`` in production).
    """
    from mlops_assets.deployment.triton_repository import (
        CHURN_MODEL,
        write_baseline_model,
        write_config,
        write_model_version,
    )

    device = serving.device
    written = {}
    for alias in ("champion", "challenger"):
        version = registry.version_by_alias(alias)
        if version is not None:
            data = registry.download(version)
            sha256 = version.tags[WEIGHTS_SHA256_TAG]
            write_model_version(serving.repository, int(version.version), data, sha256, device=device)
            written[alias] = str(version.version)
    write_baseline_model(serving.repository, device=device)
    config = write_config(serving.repository, CHURN_MODEL, device=device)
    return dg.MaterializeResult(
        metadata={
            "device": device,
            "versions": dg.MetadataValue.json(written),
            "repository": dg.MetadataValue.path(str(serving.repository)),
            "config.pbtxt": dg.MetadataValue.md(f"```\n{config.read_text()}```"),
        }
    )


class CanaryConfig(dg.Config):
    """The challenger's share of live traffic while it is on canary."""

    challenger_share: float = 0.1


@dg.asset(kinds={"triton"}, deps=[triton_model_repository], code_version="2")
def canary_deployment(
    config: CanaryConfig, registry: ModelRegistryResource, serving: ServingResource, mlflow: MlflowResource
) -> dg.MaterializeResult:
    """Load the challenger beside the champion and send it ``challenger_share`` of traffic (sticky).

    The very first model has no champion to be compared with: it is not put on canary, and the canary
    sensor sends it straight to the promotion gate (``production_deployment``).
    """
    import datetime as dt

    from mlops_assets.core.artifacts import BASELINE_MODEL, CHURN_MODEL
    from mlops_assets.serving.routing import Routing

    champion = registry.version_by_alias("champion")
    challenger = registry.version_by_alias("challenger")
    if champion is None or challenger is None or challenger.version == champion.version:
        reason = "no champion yet: the first model goes to the promotion gate" if champion is None else "no challenger"
        return dg.MaterializeResult(
            metadata={"challenger_version": str(challenger.version) if challenger else "none", "canary": reason}
        )
    versions = [int(champion.version), int(challenger.version)]
    triton = serving.triton()
    if triton is not None:
        triton.load(CHURN_MODEL, versions)
        triton.load(BASELINE_MODEL)
    routing = Routing(
        champion_version=str(champion.version),
        challenger_version=str(challenger.version),
        challenger_share=config.challenger_share,
        salt=f"canary-v{challenger.version}",
        started_at=dt.datetime.now(dt.UTC).isoformat(),
    )
    routing.save(serving.routing_path)
    return dg.MaterializeResult(
        metadata={
            "champion_version": routing.champion_version,
            "challenger_version": routing.challenger_version,
            "challenger_share": routing.challenger_share,
            "salt": routing.salt,
            "mlflow_challenger": dg.MetadataValue.url(mlflow.version_url(registry.model_name, challenger.version)),
            "server": "loaded on Triton" if triton else "no Triton server running: routing staged for `mlops serve`",
        }
    )


_CANARY_FIELDS = CanaryPolicy.model_fields


class ProductionConfig(PromotionConfig):
    """Canary evidence rules plus the promotion gate's rules; defaults and bounds from ``CanaryPolicy``."""

    alpha: float = _CANARY_FIELDS["alpha"]
    min_requests: int = _CANARY_FIELDS["min_requests"]
    canary_expired: bool = False
    """The canary's time limit ended it: without enough evidence to promote, the challenger is rolled back."""

    def canary_policy(self) -> CanaryPolicy:
        """``CanaryPolicy``'s defaults with this run's significance and evidence rules."""
        return CanaryPolicy(alpha=self.alpha, min_requests=self.min_requests)


APPROVAL_CHECK = "no_promotion_awaiting_approval"


def _serve_champion_only(serving: ServingResource, champion: str | None, salt: str) -> None:
    """Route every request to ``champion`` and unload anything else from Triton: the canary is over."""
    from mlops_assets.core.artifacts import CHURN_MODEL
    from mlops_assets.serving.routing import Routing

    Routing(champion, None, 0.0, salt).save(serving.routing_path)
    triton = serving.triton()
    if triton is not None and champion:
        triton.load(CHURN_MODEL, [int(champion)])


def _version_of(registry: ModelRegistryResource, alias: str) -> str | None:
    version = registry.version_by_alias(alias)
    return str(version.version) if version is not None else None


def _retire(registry: ModelRegistryResource, version: str, reasons: list[str], run_id: str, status: str) -> None:
    """Take ``challenger`` off a version that will not be promoted, and say why on the version."""
    actor, reason = f"canary, run {run_id}", "; ".join(reasons)
    registry.move_alias("challenger", None, actor=actor, reason=reason, dagster_run_id=run_id)
    registry.set_tags(version, {"deploy.status": status, "deploy.reasons": "; ".join(reasons)[:4000]})


def _decision_result(
    decision: "Decision",
    verdict: "CanaryVerdict | None",
    arms: "dict[str, ArmStats]",
    champion_version: str | None,
    version_url: Callable[[str, str], str],
    model_name: str,
) -> dg.MaterializeResult:
    """The decision as the asset records it: metadata, MLflow links, data version and the approval check."""
    version = decision.version
    links = {
        f"mlflow_{role}": dg.MetadataValue.url(version_url(model_name, number))
        for role, number in (("challenger", version), ("champion", champion_version))
        if number
    }
    return dg.MaterializeResult(
        data_version=dg.DataVersion(f"champion-v{champion_version}" if champion_version else "no-champion"),
        metadata={
            "decision": decision.text,
            "challenger_version": version or "none",
            "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
            "tests": dg.MetadataValue.json(verdict.tests if verdict else {}),
            "requests": dg.MetadataValue.json({k: v.requests for k, v in arms.items()}),
            "champion_version": champion_version or "none",
            **links,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=APPROVAL_CHECK,
                passed=not decision.awaiting_approval,
                severity=dg.AssetCheckSeverity.WARN,
                description=decision.text,
                metadata={"version": version or "none"},
            )
        ],
    )


@dg.asset(
    kinds={"triton"},
    # registered_model: read (its record) only when the canary sends the challenger through the gate
    deps=[canary_deployment, "registered_model"],
    code_version="2",
    check_specs=[
        dg.AssetCheckSpec(
            APPROVAL_CHECK,
            asset="production_deployment",
            description="No challenger that passed its canary and the gate is waiting for a person's approval.",
        )
    ],
)
def production_deployment(
    context: dg.AssetExecutionContext,
    config: ProductionConfig,
    lake: LakeResource,
    registry: ModelRegistryResource,
    serving: ServingResource,
    mlflow: MlflowResource,
) -> dg.MaterializeResult:
    """Decide the challenger's fate: promote it, roll it back, or keep its canary running.

    Degradation on live traffic rolls back; enough evidence sends it through the promotion gate (the same
    floor, margin and approval as ``champion_model``). A challenger the gate refuses is rolled back too, so
    nothing refused keeps receiving traffic; one awaiting approval keeps its canary share until a person
    approves (``mlops approve VERSION --by NAME``, or this asset launched with ``approved_by``).
    """
    from mlops_assets.deployment.production_decision import after_gate, arm_stats, canary_verdict, decide
    from mlops_assets.serving.routing import Routing

    run_id = context.run.run_id
    champion = _version_of(registry, "champion")
    challenger = _version_of(registry, "challenger")
    routing = Routing.load(serving.routing_path) if serving.routing_path.exists() else Routing()
    arms = arm_stats(serving.prediction_log().read(), routing.salt)
    policy = config.canary_policy()
    verdict = canary_verdict(champion, challenger, routing.challenger_version, arms, policy)
    decision = decide(verdict, challenger, config.canary_expired)
    if decision.to_gate:
        registered = read_record(lake, "registered_model", ChallengerRef)
        status, version, reasons = apply_gate(run_id, config, registered, registry, extra_reason=verdict.reasons[0])
        decision = after_gate(status, version, reasons)
    if decision.retire_as is not None:
        _retire(registry, decision.version, decision.reasons, run_id, decision.retire_as)
    champion_version = _version_of(registry, "champion")
    if decision.ends_canary:
        _serve_champion_only(serving, champion_version, routing.salt)
    return _decision_result(decision, verdict, arms, champion_version, mlflow.version_url, registry.model_name)
