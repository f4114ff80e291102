"""Deployment: the Triton model repository, the canary, and promotion or rollback on live evidence.

``triton_model_repository`` writes champion, challenger and the baseline fallback from the registry (each
artifact's sha256 checked before Triton may see it). ``canary_deployment`` loads the challenger beside the
champion and routes a share of traffic to it. ``production_deployment`` reads what each arm served from
the gateway's prediction log and decides: roll back on degradation, promote (through the same gate and
approval as ``champion_model``) on enough evidence, or keep collecting.
"""

import dagster as dg

from mlops_assets.metadata import OWNERS
from mlops_assets.registry import PromotionConfig, apply_gate, registered_model
from resources.model_registry import ModelRegistryResource
from resources.serving import ServingResource
from resources.storage import LakeResource


@dg.asset(group_name="deployment", kinds={"triton", "onnx"}, owners=OWNERS, deps=[registered_model], code_version="1")
def triton_model_repository(registry: ModelRegistryResource, serving: ServingResource) -> dg.MaterializeResult:
    """One numbered directory per registry version (champion and challenger), plus the baseline fallback."""
    from mlops_assets.core.triton_repository import (
        CHURN_MODEL,
        render_config,
        write_baseline_model,
        write_config,
        write_model_version,
    )

    written = {}
    for alias in ("champion", "challenger"):
        version = registry.version_by_alias(alias)
        if version is not None:
            data = registry.download(version)
            write_model_version(serving.repository, int(version.version), data, version.tags["weights.sha256"])
            written[alias] = str(version.version)
    write_baseline_model(serving.repository)
    write_config(serving.repository, CHURN_MODEL)
    return dg.MaterializeResult(
        metadata={
            "versions": dg.MetadataValue.json(written),
            "repository": dg.MetadataValue.path(str(serving.repository)),
            "config.pbtxt": dg.MetadataValue.md(f"```\n{render_config(CHURN_MODEL)}```"),
            "gpu_config.pbtxt": dg.MetadataValue.md(f"```\n{render_config(CHURN_MODEL, gpu=True)}```"),
        }
    )


class CanaryConfig(dg.Config):
    """The challenger's share of live traffic while it is on canary."""

    challenger_share: float = 0.1


@dg.asset(group_name="deployment", kinds={"triton"}, owners=OWNERS, deps=[triton_model_repository], code_version="1")
def canary_deployment(
    config: CanaryConfig, registry: ModelRegistryResource, serving: ServingResource
) -> dg.MaterializeResult:
    """Load the challenger beside the champion and send it ``challenger_share`` of traffic (sticky)."""
    from mlops_assets.core.triton_repository import BASELINE_MODEL, CHURN_MODEL
    from mlops_assets.serving.routing import Routing

    champion = registry.version_by_alias("champion")
    challenger = registry.version_by_alias("challenger")
    on_canary = challenger is not None and (champion is None or challenger.version != champion.version)
    versions = [int(v.version) for v in (champion, challenger if on_canary else None) if v is not None]
    triton = serving.triton()
    if triton is not None and versions:
        triton.load(CHURN_MODEL, versions)
        triton.load(BASELINE_MODEL)
    routing = Routing(
        champion_version=str(champion.version) if champion else None,
        challenger_version=str(challenger.version) if on_canary else None,
        challenger_share=config.challenger_share if on_canary else 0.0,
        salt=f"canary-v{challenger.version}" if on_canary else "no-canary",
    )
    routing.save(serving.routing_path)
    return dg.MaterializeResult(
        metadata={
            "champion_version": routing.champion_version or "none",
            "challenger_version": routing.challenger_version or "none",
            "challenger_share": routing.challenger_share,
            "salt": routing.salt,
            "server": "loaded on Triton" if triton else "no Triton server running: routing staged for `mlops serve`",
        }
    )


class ProductionConfig(PromotionConfig):
    """Canary evidence rules plus the promotion gate's rules."""

    alpha: float = 0.01
    min_requests: int = 200


def _arm_stats(log: "object", salt: str):  # noqa: ANN202
    from mlops_assets.core.canary import ArmStats

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


@dg.asset(group_name="deployment", kinds={"triton"}, owners=OWNERS, deps=[canary_deployment], code_version="1")
def production_deployment(
    context: dg.AssetExecutionContext,
    config: ProductionConfig,
    lake: LakeResource,
    registry: ModelRegistryResource,
    serving: ServingResource,
) -> dg.MaterializeResult:
    """Roll the challenger back on degradation, promote it on enough evidence, or keep the canary running."""
    from mlops_assets.core.canary import PROMOTE, ROLLBACK, CanaryPolicy, evaluate
    from mlops_assets.core.triton_repository import CHURN_MODEL
    from mlops_assets.serving.routing import Routing

    routing = Routing.load(serving.routing_path) if serving.routing_path.exists() else Routing()
    if routing.challenger_version is None:
        return dg.MaterializeResult(metadata={"decision": "no canary running"})
    log = serving.prediction_log()
    arms = _arm_stats(log.read(), routing.salt)
    verdict = evaluate(
        arms["challenger"], arms["champion"], CanaryPolicy(alpha=config.alpha, min_requests=config.min_requests)
    )
    decision, reasons = verdict.decision, list(verdict.reasons)
    run_id = context.run.run_id
    if verdict.decision == ROLLBACK:
        registry.move_alias(
            "challenger", None, actor=f"canary, run {run_id}", reason="; ".join(reasons), dagster_run_id=run_id
        )
        registry.set_tags(
            routing.challenger_version, {"deploy.status": "rolled_back", "deploy.reasons": "; ".join(reasons)}
        )
        routing = Routing(routing.champion_version, None, 0.0, routing.salt)
    elif verdict.decision == PROMOTE:
        status, version, gate_reasons = apply_gate(run_id, config, lake, registry, extra_reason=reasons[0])
        reasons = gate_reasons
        decision = "promoted" if status == "approved" else f"canary passed, {status}"
        if status == "approved":
            routing = Routing(version, None, 0.0, routing.salt)
    if routing.challenger_version is None:
        routing.save(serving.routing_path)
        triton = serving.triton()
        if triton is not None and routing.champion_version:
            triton.load(CHURN_MODEL, [int(routing.champion_version)])
    lake.write_json({"decision": decision, "reasons": reasons, "tests": verdict.tests}, "serving", "last_canary.json")
    return dg.MaterializeResult(
        metadata={
            "decision": decision,
            "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in reasons)),
            "tests": dg.MetadataValue.json(verdict.tests),
            "requests": dg.MetadataValue.json({k: v.requests for k, v in arms.items()}),
            "champion_version": routing.champion_version or "none",
        }
    )
