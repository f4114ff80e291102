"""The drift sensor: failed drift checks (data, prediction, performance) in, one ``retrain`` run per event out.

The verdicts are asset checks on the monitoring reports (WARN severity). The sensor reads the check
evaluations it has not seen yet (its cursor keeps the last evaluation id per check, persisted by the
daemon), decides with ``retrain_events`` and requests the ``retrain`` job with ``run_key`` = the event id.
Dagster refuses a second run with the same run key for a sensor, also after a daemon restart, so each
drift event retrains exactly once. While no champion exists, the drift sensor trains the first model.
"""

from __future__ import annotations

import json

import dagster as dg

from mlops_assets.monitoring.check_history import completed_evaluations
from mlops_assets.monitoring.retrain_policy import Finding, RetrainEvent, bootstrap_event, retrain_events
from mlops_assets.run_tags import REASON_TAG, TRIGGER_TAG
from resources.model_registry import ModelRegistryResource
from sensors.jobs import RETRAIN_JOB
from sensors.settings import DEFAULT_STATUS, INTERVAL_SECONDS

DRIFT_CHECKS = (
    dg.AssetCheckKey(dg.AssetKey("data_drift_report"), "no_data_drift"),
    dg.AssetCheckKey(dg.AssetKey("prediction_drift_report"), "no_prediction_drift"),
    dg.AssetCheckKey(dg.AssetKey("concept_drift_report"), "no_concept_drift"),
)
"""Data, prediction and performance (concept) drift: one sensor reads them all, so verdicts of different
kinds about the same champion are one drift event and one retrain, never two racing challengers."""
FEATURES = dg.AssetKey("customer_feature_table")
FEATURE_REGISTRY = dg.AssetKey("feature_store_registry")
VALIDATED = dg.AssetKey("validated_events")
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _check_findings(
    instance: dg.DagsterInstance, checks: tuple[dg.AssetCheckKey, ...], seen: dict[str, int]
) -> tuple[list[Finding], dict[str, int]]:
    """Completed evaluations of ``checks`` newer than ``seen`` (evaluation id per check), oldest first."""
    findings, newest = [], dict(seen)
    for key in checks:
        name = key.to_user_string()
        for verdict in completed_evaluations(instance, key, after_id=seen.get(name, 0)):
            meta = verdict.metadata
            findings.append(
                Finding(
                    report=key.asset_key.to_user_string(),
                    partition=str(meta.get("day", verdict.partition or "")),
                    drifted=not verdict.passed,
                    champion_version=str(meta.get("champion_version", "")),
                    detail=", ".join(meta.get("drifted_columns", [])),
                )
            )
            newest[name] = max(newest.get(name, 0), verdict.id)
    return findings, newest


def _latest_storage_id(instance: dg.DagsterInstance, key: dg.AssetKey) -> int | None:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1).records
    return records[0].storage_id if records else None


def _features_current(instance: dg.DagsterInstance) -> int | None:
    """The feature table's newest materialization if it is newer than the newest validated day, else None.

    A retrain must see the day that triggered it, so it waits until the features include it.
    """
    features, validated = _latest_storage_id(instance, FEATURES), _latest_storage_id(instance, VALIDATED)
    if features is None or _latest_storage_id(instance, FEATURE_REGISTRY) is None:
        return None
    return features if validated is None or features > validated else None


def _request(event: RetrainEvent) -> dg.RunRequest:
    return dg.RunRequest(run_key=event.event_id, tags={TRIGGER_TAG: event.event_id, REASON_TAG: event.reason[:200]})


def _evaluate(
    context: dg.SensorEvaluationContext, checks: tuple[dg.AssetCheckKey, ...], registry: ModelRegistryResource
) -> dg.SensorResult:
    seen = json.loads(context.cursor) if context.cursor else {}
    findings, newest = _check_findings(context.instance, checks, seen)
    champion = registry.version_by_alias("champion")
    events = retrain_events(findings, str(champion.version) if champion else None)
    if events and _features_current(context.instance) is None:
        # keep the cursor: the same findings are read again once the features include the newest day
        return dg.SensorResult(skip_reason=dg.SkipReason("drift found; waiting for features to include the new day"))
    cursor = json.dumps(newest, sort_keys=True)
    if not events:
        reason = f"{len(findings)} new verdict(s), no drift" if findings else "no new verdict"
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)
    context.log.info(f"requesting {len(events)} retrain(s): {[e.event_id for e in events]}")
    return dg.SensorResult(run_requests=[_request(e) for e in events], cursor=cursor)


@dg.sensor(
    job=RETRAIN_JOB,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=DEFAULT_STATUS,
    description="Retrain when a data, prediction or concept drift check fails; train the first model if none.",
)
def drift_sensor(context: dg.SensorEvaluationContext, registry: ModelRegistryResource) -> dg.SensorResult:
    champion, challenger = registry.version_by_alias("champion"), registry.version_by_alias("challenger")
    if champion is None:
        active = bool(context.instance.get_runs(dg.RunsFilter(job_name=RETRAIN_JOB.name, statuses=ACTIVE), limit=1))
        challenger_version = str(challenger.version) if challenger else None
        event = bootstrap_event(None, challenger_version, _features_current(context.instance), active)
        if event is None:
            return dg.SensorResult(skip_reason=dg.SkipReason("no champion yet; waiting for features or a decision"))
        return dg.SensorResult(run_requests=[_request(event)])
    return _evaluate(context, DRIFT_CHECKS, registry)
