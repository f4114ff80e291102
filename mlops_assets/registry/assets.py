"""Registry: MLflow model versions carrying their full record, aliases, and the promotion gate."""

import datetime as dt

import dagster as dg
from pydantic import Field

from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG
from mlops_assets.datasets.manifest import read_manifest
from mlops_assets.evaluation.report import EvaluationReport
from mlops_assets.registry.challenger import ChallengerRef
from mlops_assets.registry.promotion import Approval, GatePolicy, decide
from mlops_assets.registry.registration import registry_tags, version_description
from mlops_assets.training.model_record import read_model_record
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.record_io_manager import RECORD_IO_MANAGER
from resources.storage import LakeResource

REGISTERED = "newly evaluated candidate"
"""The reason recorded when a freshly registered version becomes the challenger."""
APPROVER_TAGS = ("approval.approved_by", "approval.approved_at", "approval.automatic")
"""Who approved and when: carried only by a version whose ``approval.status`` is ``approved``."""


@dg.asset(
    kinds={"mlflow"},
    code_version="2",
    io_manager_key=RECORD_IO_MANAGER,
)
def registered_model(
    context: dg.AssetExecutionContext,
    model_evaluation: EvaluationReport,
    lake: LakeResource,
    registry: ModelRegistryResource,
    mlflow: MlflowResource,
) -> dg.Output[ChallengerRef]:
    """The evaluated candidate as an MLflow model version, aliased ``challenger``.

    The version is registered from the training run's logged model (``models:/<model_id>``), so MLflow
    loads it with its signature, and its description says what it is and why it was trained. Registering
    the same artifact twice returns the existing version (matched by its sha256).
    """
    evaluation = model_evaluation
    record = read_model_record(lake, evaluation.model_sha256)
    manifest = read_manifest(lake, record.dataset_version)
    registry.ensure_model()
    existing = registry.client().search_model_versions(
        f"name = '{registry.model_name}' and tags.`{WEIGHTS_SHA256_TAG}` = '{record.sha256}'"
    )
    if existing:
        version = existing[0]
        context.log.info(f"artifact {record.sha256[:12]} already registered as version {version.version}")
    else:
        training_run = context.instance.get_run_by_id(record.dagster_run_id) or context.run
        description = version_description(
            record, evaluation, manifest, training_run.tags, training_run.job_name, training_run.run_id
        )
        tags = registry_tags(record, evaluation, manifest)
        version = registry.register(
            record.model_uri, record.mlflow_run_id, tags, model_id=record.model_id, description=description
        )
    champion = registry.version_by_alias("champion")
    if champion is None or champion.version != version.version:
        actor, run_id = f"dagster run {context.run.run_id}", context.run.run_id
        registry.move_alias("challenger", version.version, actor=actor, reason=REGISTERED, dagster_run_id=run_id)
    return dg.Output(
        ChallengerRef(version=str(version.version), sha256=record.sha256, evaluation=evaluation),
        metadata={
            "model_name": registry.model_name,
            "version": version.version,
            "sha256": record.sha256,
            "dataset_version": record.dataset_version,
            "oot_roc_auc": evaluation.summary["oot_roc_auc"],
            "description": dg.MetadataValue.md(version.description or ""),
            "mlflow_version": dg.MetadataValue.url(mlflow.version_url(registry.model_name, version.version)),
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(record.mlflow_run_id)),
        },
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
    run_id: str,
    config: PromotionConfig,
    challenger: ChallengerRef,
    registry: ModelRegistryResource,
    extra_reason: str = "",
) -> tuple[str, str, list[str]]:
    """Run the promotion gate on the registered ``challenger``; move ``champion`` if it passes.

    Returns (status, challenger version, reasons). Shared by ``champion_model`` (offline promotion) and
    ``production_deployment`` (promotion after a canary), so both apply the same rules and approvals.
    """
    version = challenger.version
    champion = registry.version_by_alias("champion")
    if champion is not None and str(champion.version) == version:
        return "unchanged", version, [f"v{version} is already the champion"]
    challenger_metrics, champion_metrics = challenger.gate_metrics(champion.version if champion else None)
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
    kinds={"mlflow"},
    code_version="1",
)
def champion_model(
    context: dg.AssetExecutionContext,
    config: PromotionConfig,
    registered_model: ChallengerRef,
    registry: ModelRegistryResource,
    mlflow: MlflowResource,
) -> dg.MaterializeResult:
    """Moves ``champion`` to the challenger when the gate passes; otherwise explains why not.

    This is the offline promotion path; with a Triton server running, ``production_deployment`` promotes
    after a canary instead, through the same gate.
    """
    status, version, reasons = apply_gate(context.run.run_id, config, registered_model, registry)
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
