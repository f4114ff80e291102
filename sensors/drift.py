"""Drift and performance sensors: monitoring findings in, one retrain run per drift event out.

The sensor reads new materializations of the monitoring reports (its cursor is the last event storage id
it has seen, persisted by the daemon), decides with ``retrain_events`` and requests the retrain job with
``run_key`` = the event id. Dagster refuses a second run with the same run key for a sensor, also after a
daemon restart, so each drift event retrains exactly once.
"""

import os

import dagster as dg

from mlops_assets.core.retrain_policy import Finding, retrain_events
from resources.model_registry import ModelRegistryResource

RETRAIN_JOB = "retrain"
INTERVAL_SECONDS = int(os.environ.get("MLOPS_SENSOR_INTERVAL_SECONDS", "30"))
DRIFT_REPORTS = ("data_drift_report", "prediction_drift_report")
PERFORMANCE_REPORTS = ("concept_drift_report",)


def _findings(context: dg.SensorEvaluationContext, reports: tuple[str, ...]) -> tuple[list[Finding], int]:
    after = int(context.cursor or 0)
    newest = after
    findings: list[Finding] = []
    for report in reports:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(report), after_storage_id=after), limit=500, ascending=True
        ).records
        for record in records:
            meta = record.asset_materialization.metadata if record.asset_materialization else {}
            value = meta.get("drifted")
            findings.append(
                Finding(
                    report=report,
                    partition=record.partition_key,
                    drifted=bool(value.value) if value is not None else False,
                    champion_version=str(meta["champion_version"].value) if "champion_version" in meta else "",
                    detail=", ".join(meta["drifted_columns"].value) if "drifted_columns" in meta else "",
                )
            )
            newest = max(newest, record.storage_id)
    return findings, newest


def _evaluate(
    context: dg.SensorEvaluationContext, reports: tuple[str, ...], registry: ModelRegistryResource
) -> dg.SensorResult:
    findings, newest = _findings(context, reports)
    if not findings:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new monitoring report"), cursor=str(newest))
    champion = registry.version_by_alias("champion")
    events = retrain_events(findings, str(champion.version) if champion else None)
    requests = [
        dg.RunRequest(run_key=e.event_id, tags={"mlops/trigger": e.event_id, "mlops/reason": e.reason[:200]})
        for e in events
    ]
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason(f"{len(findings)} report(s), no drift"), cursor=str(newest))
    context.log.info(f"requesting {len(requests)} retrain(s): {[e.event_id for e in events]}")
    return dg.SensorResult(run_requests=requests, cursor=str(newest))


@dg.sensor(
    job_name=RETRAIN_JOB,
    minimum_interval_seconds=INTERVAL_SECONDS,
    description="Retrain when data or prediction drift is found.",
)
def drift_sensor(context: dg.SensorEvaluationContext, registry: ModelRegistryResource) -> dg.SensorResult:
    return _evaluate(context, DRIFT_REPORTS, registry)


@dg.sensor(
    job_name=RETRAIN_JOB,
    minimum_interval_seconds=2 * INTERVAL_SECONDS,
    description="Retrain when delayed labels show the champion's performance dropped (concept drift).",
)
def performance_sensor(context: dg.SensorEvaluationContext, registry: ModelRegistryResource) -> dg.SensorResult:
    return _evaluate(context, PERFORMANCE_REPORTS, registry)
