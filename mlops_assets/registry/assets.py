"""Registry: MLflow model versions carrying their full record, aliases, and the promotion gate."""

import datetime as dt
import json

import dagster as dg
from pydantic import Field

from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG
from mlops_assets.evaluation.assets import model_evaluation
from mlops_assets.metadata import OWNERS
from mlops_assets.registry.promotion import Approval, GatePolicy, decide
from mlops_assets.run_tags import REASON_TAG, TRIGGER_TAG
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.storage import LakeResource

"""The Dagster run tags saying why a run was launched (the sensors set them, ``sensors/settings.py``)."""
APPROVER_TAGS = ("approval.approved_by", "approval.approved_at", "approval.automatic")
"""Who approved and when: carried only by a version whose ``approval.status`` is ``approved``."""

DEPLOYMENT_CONFIG = {
    "server": "triton",
    "backend": "python (onnxruntime, CPU); onnxruntime backend on GPU",
    "max_batch_size": 1024,
    "dynamic_batching_max_queue_delay_us": 200,
    "instance_groups": "1 x KIND_CPU",
}


def registry_tags(record: dict, evaluation: dict, manifest: dict) -> dict[str, str]:
    """Every row of the registry record as model-version tags (MLflow tags are flat strings)."""
    tags = {
        WEIGHTS_SHA256_TAG: record["sha256"],
        "weights.size_bytes": str(record["size_bytes"]),
        "weights.format": record["format"],
        "weights.quantization": record["quantization"],
        "data.dataset_version": manifest["version"],
        "data.dataset_sha256": manifest["sha256"],
        "data.as_of": manifest["as_of"],
        "data.filters": json.dumps(manifest["filters"]),
        "data.split_ratios": json.dumps(manifest["split_ratios"]),
        "data.transformations": json.dumps(manifest["transformations"]),
        "train.params": json.dumps(record["params"]),
        "train.dagster_run_id": record["dagster_run_id"],
        "deploy.config": json.dumps(DEPLOYMENT_CONFIG),
        "approval.status": "pending",
    }
    tags.update({f"eval.{k}": f"{v:.6g}" for k, v in evaluation["summary"].items()})
    return tags


def version_description(
    record: dict, evaluation: dict, manifest: dict, run_tags: dict[str, str], job_name: str, dagster_run_id: str
) -> str:
    """What the version is and why it exists, for its page in the MLflow UI.

    e.g. "Churn classifier (HistGradientBoosting as ONNX, sha256 0a1b2c3d4e5f). Retrained on
    drift:champion-v1 (data drift in ...); dataset 3f2a..., 9,876 rows as of 2026-01-14; OOT ROC AUC 0.7912
    vs 0.7850 for champion v1. Dagster run 1a2b3c4d (job retrain)."
    """
    champion = evaluation.get("champion_version")
    trigger, reason = run_tags.get(TRIGGER_TAG), run_tags.get(REASON_TAG)
    verb = "Retrained" if champion else "Trained"
    why = f"{verb} on {trigger}" + (f" ({reason})" if reason else "") if trigger else f"{verb} on request"
    auc = f"OOT ROC AUC {evaluation['summary']['oot_roc_auc']:.4f}"
    incumbent = evaluation["report"].get(f"champion (v{champion})") if champion else None
    if incumbent:
        auc += f" vs {incumbent['oot_test']['roc_auc']:.4f} for champion v{champion}"
    return (
        f"Churn classifier (HistGradientBoosting as {record['format'].upper()}, sha256 {record['sha256'][:12]}). "
        f"{why}; dataset {manifest['version']}, {manifest['rows']:,} rows as of {manifest['as_of']}; {auc}. "
        f"Dagster run {dagster_run_id[:8]} (job {job_name})."
    )


@dg.asset(
    group_name="registry",
    kinds={"mlflow"},
    owners=OWNERS,
    deps=[model_evaluation],
    code_version="2",
)
def registered_model(
    context: dg.AssetExecutionContext, lake: LakeResource, registry: ModelRegistryResource, mlflow: MlflowResource
) -> dg.MaterializeResult:
    """The evaluated candidate as an MLflow model version, aliased ``challenger``.

    The version is registered from the training run's logged model (``models:/<model_id>``), so MLflow
    loads it with its signature, and its description says what it is and why it was trained. Registering
    the same artifact twice returns the existing version (matched by its sha256).
    """
    record = lake.read_json("models", "candidate.json")
    evaluation = lake.read_json("evaluations", f"{record['sha256']}.json")
    manifest = lake.read_json("datasets", record["dataset_version"], "manifest.json")
    registry.ensure_model()
    existing = registry.client().search_model_versions(
        f"name = '{registry.model_name}' and tags.`{WEIGHTS_SHA256_TAG}` = '{record['sha256']}'"
    )
    if existing:
        version = existing[0]
        context.log.info(f"artifact {record['sha256'][:12]} already registered as version {version.version}")
    else:
        training_run = context.instance.get_run_by_id(record["dagster_run_id"]) or context.run
        description = version_description(
            record, evaluation, manifest, training_run.tags, training_run.job_name, training_run.run_id
        )
        version = registry.register(
            record.get("model_uri", record["artifact_uri"]),
            record["mlflow_run_id"],
            registry_tags(record, evaluation, manifest),
            model_id=record.get("model_id"),
            description=description,
        )
    champion = registry.version_by_alias("champion")
    if champion is None or champion.version != version.version:
        registry.move_alias(
            "challenger",
            version.version,
            actor=f"dagster run {context.run.run_id}",
            reason="newly evaluated candidate",
            dagster_run_id=context.run.run_id,
        )
    lake.write_json({"version": version.version, "sha256": record["sha256"]}, "registry", "challenger.json")
    return dg.MaterializeResult(
        metadata={
            "model_name": registry.model_name,
            "version": version.version,
            "sha256": record["sha256"],
            "dataset_version": record["dataset_version"],
            "oot_roc_auc": evaluation["summary"]["oot_roc_auc"],
            "description": dg.MetadataValue.md(version.description or ""),
            "mlflow_version": dg.MetadataValue.url(mlflow.version_url(registry.model_name, version.version)),
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(record["mlflow_run_id"])),
        }
    )


_GATE = GatePolicy()


class PromotionConfig(dg.Config):
    """The gate. With ``approval_required`` a promotion needs ``approved_by`` (launch with it in the UI).

    Defaults come from ``GatePolicy``, the one place they are set; ``gate_policy()`` turns the run's config
    into the policy the pure gate applies.
    """

    floor: float = Field(default=_GATE.floor, ge=0.0, le=1.0, description="the least ROC AUC a champion may have")
    min_improvement: float = Field(
        default=_GATE.min_improvement,
        ge=-1.0,
        le=1.0,
        description="ROC AUC the challenger must gain over the champion; negative lets through a challenger up to "
        "that much worse (a fairness or latency fix worth a little accuracy)",
    )
    approval_required: bool = _GATE.approval_required
    approved_by: str = ""
    automatic_approval: bool = False

    def gate_policy(self) -> GatePolicy:
        return GatePolicy(
            metric=_GATE.metric,
            floor=self.floor,
            min_improvement=self.min_improvement,
            approval_required=self.approval_required,
        )


def recorded_approval(config: PromotionConfig, tags: dict[str, str]) -> Approval | None:
    """The approval for this decision: given in the run's config, or recorded earlier on the version.

    ``mlops approve VERSION --by NAME`` records ``approval.approved_by`` on the registry version; the canary
    sensor then launches the decision again, which finds the approval here. A launch from the Launchpad
    with ``approved_by`` in its config approves in the same step.
    """
    if config.approved_by:
        return Approval(config.approved_by, dt.datetime.now(dt.UTC).isoformat(), config.automatic_approval)
    if tags.get("approval.approved_by"):
        return Approval(
            tags["approval.approved_by"], tags.get("approval.approved_at", ""), tags.get("approval.automatic") == "true"
        )
    return None


def apply_gate(
    run_id: str, config: PromotionConfig, lake: LakeResource, registry: ModelRegistryResource, extra_reason: str = ""
) -> tuple[str, str, list[str]]:
    """Run the promotion gate on the current challenger; move ``champion`` if it passes.

    Returns (status, challenger version, reasons). Shared by ``champion_model`` (offline promotion) and
    ``production_deployment`` (promotion after a canary), so both apply the same rules and approvals.
    """
    challenger_ref = lake.read_json("registry", "challenger.json")
    version = str(challenger_ref["version"])
    evaluation = lake.read_json("evaluations", f"{challenger_ref['sha256']}.json")
    champion = registry.version_by_alias("champion")
    challenger_metrics = {"oot_roc_auc": evaluation["report"]["candidate"]["oot_test"]["roc_auc"]}
    champion_metrics = None
    if champion is not None:
        if str(champion.version) == version:
            return "unchanged", version, [f"v{version} is already the champion"]
        key = f"champion (v{champion.version})"
        if key in evaluation["report"]:
            champion_metrics = {"oot_roc_auc": evaluation["report"][key]["oot_test"]["roc_auc"]}
    approval = recorded_approval(config, registry.get_version(version).tags)
    decision = decide(challenger_metrics, champion_metrics, config.gate_policy(), approval)
    reasons = [extra_reason, *decision.reasons] if extra_reason else decision.reasons
    status = "approved" if decision.promote else ("awaiting_approval" if decision.awaiting_approval else "refused")
    tags = {"approval.status": status, "approval.reasons": " | ".join(reasons)}
    if approval and status == "approved":
        approver = (approval.approved_by, approval.approved_at, str(approval.automatic).lower())
        tags |= dict(zip(APPROVER_TAGS, approver, strict=True))
    registry.set_tags(version, tags)
    if status != "approved":
        # an approval the gate did not act on (a refused version) must not read as an approved version
        registry.delete_tags(version, APPROVER_TAGS)
    if decision.promote:
        actor = approval.approved_by if approval else f"gate, run {run_id}"
        registry.move_alias("champion", version, actor=actor, reason="; ".join(reasons), dagster_run_id=run_id)
        # the challenger became the champion: no version is left "challenger" beside it
        registry.move_alias("challenger", None, actor=actor, reason=f"v{version} promoted", dagster_run_id=run_id)
    return status, version, reasons


@dg.asset(
    group_name="registry",
    kinds={"mlflow"},
    owners=OWNERS,
    deps=[registered_model],
    code_version="1",
)
def champion_model(
    context: dg.AssetExecutionContext,
    config: PromotionConfig,
    lake: LakeResource,
    registry: ModelRegistryResource,
    mlflow: MlflowResource,
) -> dg.MaterializeResult:
    """Moves ``champion`` to the challenger when the gate passes; otherwise explains why not.

    This is the offline promotion path; with a Triton server running, ``production_deployment`` promotes
    after a canary instead, through the same gate.
    """
    status, version, reasons = apply_gate(context.run.run_id, config, lake, registry)
    if status not in ("approved", "unchanged"):
        context.log.warning(f"version {version} not promoted: {reasons[-1]}")
    current = registry.version_by_alias("champion")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(f"champion-v{current.version}" if current else "no-champion"),
        metadata={
            "decision": status,
            "challenger_version": version,
            "champion_version": str(current.version) if current else "none",
            "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in reasons)),
            **(
                {"mlflow_champion": dg.MetadataValue.url(mlflow.version_url(registry.model_name, current.version))}
                if current
                else {}
            ),
            "mlflow_challenger": dg.MetadataValue.url(mlflow.version_url(registry.model_name, version)),
        },
    )
