"""Monitoring: the champion's reference profile and daily drift, feature-quality and concept-drift reports.

Each report is an asset, so its history, plots and verdicts live in the Dagster UI, and the drift sensors
read them to decide on a retrain. The reference profile is computed once per champion version from its
training rows, so checking a new day never reloads the training data.
"""

import json

import dagster as dg

from mlops_assets.automation import NEW_CHAMPION, NEW_DAY, NEW_LABELS
from mlops_assets.deployment.assets import production_deployment
from mlops_assets.metadata import OWNERS, fmt, records_table, sig
from mlops_assets.monitoring.checks import (
    CONCEPT_DRIFT_CHECK,
    DATA_DRIFT_CHECK,
    PREDICTION_DRIFT_CHECK,
    QUALITY_CHECK,
    check_spec,
    verdict_check,
)
from mlops_assets.monitoring.metadata import leading, quality_metadata, report_result, segment_notes
from mlops_assets.monitoring.segment_profiles import save_profiles, segment_drift
from mlops_assets.partitions import DAYS
from mlops_assets.registry.assets import champion_model
from resources.model_registry import ModelRegistryResource
from resources.serving import ServingResource
from resources.storage import LakeResource

SEGMENT_TABLE = dict(segment="string", drifted="bool", share_drifted="float", drifted_columns="string", rows="int")
"""Columns of the per-segment verdicts table on a data-drift report."""
DROP_FIGURES = ("reference_error", "current_error", "reference_auc", "current_auc", "p_value")


class MonitoringConfig(dg.Config):
    """``alpha``: family-wise false-alarm rate of the dataset verdict (Benjamini-Hochberg across columns)."""

    alpha: float = 0.01


def champion_reference(lake: LakeResource, registry: ModelRegistryResource) -> tuple[str, str]:
    """(champion version, path of its stored reference profile); fails clearly when there is none."""
    champion = registry.version_by_alias("champion")
    if champion is None:
        raise dg.Failure("no champion model yet: materialize champion_model first")
    sha = champion.tags["weights.sha256"]
    return champion.version, str(lake.path("monitoring", "reference", f"{sha}.profile"))


@dg.asset(
    group_name="monitoring",
    kinds={"scipy"},
    owners=OWNERS,
    deps=[champion_model, production_deployment],
    code_version="1",
    automation_condition=NEW_CHAMPION,
)
def reference_profile(lake: LakeResource, registry: ModelRegistryResource) -> dg.MaterializeResult:
    """Sorted samples, category counts, null rates and calibrated thresholds of the champion's training rows."""
    from mlops_assets.core import domain as d
    from mlops_assets.training.model_artifact import OnnxScorer

    version, path = champion_reference(lake, registry)
    champion = registry.get_version(version)
    columns = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES, d.SEGMENT]
    train_rows = _dataset_split(lake, champion.tags["data.dataset_version"], "train", columns)
    train_rows["score"] = OnnxScorer(registry.download(champion)).predict_proba(d.encode(train_rows))
    profile, segments = save_profiles(train_rows, [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES, "score"], path)
    return dg.MaterializeResult(
        metadata={
            "champion_version": version,
            "rows": dg.MetadataValue.int(len(train_rows)),
            "columns": dg.MetadataValue.int(len(profile.columns)),
            "segment_profiles": dg.MetadataValue.json(segments),
            "path": dg.MetadataValue.path(path),
        }
    )


def _dataset_split(lake: LakeResource, version: str, split: str, columns: list[str] | None = None):  # noqa: ANN202
    """One split of a stored dataset (``columns`` only, if given), filtered as read: the rest never loads."""
    import pandas as pd

    from mlops_assets.datasets.dataset_split import SPLIT

    path = lake.path("datasets", version, "dataset.parquet")
    return pd.read_parquet(path, columns=columns, filters=[(SPLIT, "==", split)])


def export_monitoring_metrics(lake: LakeResource, serving: ServingResource) -> None:
    """Rewrite the Prometheus text file from the newest day of each report.

    Built from the newest day rather than the run's own, so a backfill of an old day does not overwrite
    what today's report says.
    """
    from mlops_assets.serving.metrics import MonitoringMetrics
    from resources import atomic

    def newest(folder: str) -> dict | None:
        days = sorted(lake.path("monitoring", folder).glob("*.json"))
        return atomic.read_json(days[-1]) if days else None

    metrics = MonitoringMetrics()
    for report, folder in (("data", "data_drift"), ("prediction", "prediction_drift")):
        if (payload := newest(folder)) is not None:
            metrics.observe_drift(report, payload)
    if (quality := newest("feature_quality")) is not None:
        metrics.observe_quality(quality)
    metrics.write(serving.monitoring_metrics_path)


@dg.asset(
    group_name="monitoring",
    kinds={"scipy"},
    owners=OWNERS,
    partitions_def=DAYS,
    deps=["validated_events", reference_profile],
    code_version="1",
    automation_condition=NEW_DAY,
    check_specs=[check_spec(DATA_DRIFT_CHECK, "data_drift_report")],
)
def data_drift_report(
    context: dg.AssetExecutionContext,
    config: MonitoringConfig,
    lake: LakeResource,
    registry: ModelRegistryResource,
    serving: ServingResource,
) -> dg.MaterializeResult:
    """Feature drift of one day's validated events against the champion's reference profile."""
    from mlops_assets.core import domain as d
    from mlops_assets.monitoring.drift_profile import ReferenceProfile

    day = context.partition_key
    version, path = champion_reference(lake, registry)
    current = lake.read_parquet("validated", f"{day}.parquet")
    columns = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
    report = ReferenceProfile.load(path).compare(current, columns=columns, alpha=config.alpha)
    segments = segment_drift(path, current, columns, config.alpha)
    payload = {**report.to_dict(), "markdown": report.to_markdown(), "champion_version": version, "day": day}
    payload["segments"] = segments
    lake.write_json(payload, "monitoring", "data_drift", f"{day}.json")
    export_monitoring_metrics(lake, serving)
    table = records_table([{"segment": name, **verdict} for name, verdict in sorted(segments.items())], SEGMENT_TABLE)
    extra = {"champion_version": version, "rows": dg.MetadataValue.int(len(current)), "segments": table}
    return report_result(payload, extra, DATA_DRIFT_CHECK, "data_drift_report", segment_notes(segments))


@dg.asset(
    group_name="monitoring",
    kinds={"scipy", "onnx"},
    owners=OWNERS,
    partitions_def=DAYS,
    deps=["validated_events", reference_profile],
    code_version="1",
    automation_condition=NEW_DAY,
    check_specs=[check_spec(PREDICTION_DRIFT_CHECK, "prediction_drift_report")],
)
def prediction_drift_report(
    context: dg.AssetExecutionContext,
    config: MonitoringConfig,
    lake: LakeResource,
    registry: ModelRegistryResource,
    serving: ServingResource,
) -> dg.MaterializeResult:
    """Drift of the champion's score distribution on one day (from the gateway's log when it has the day)."""
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.monitoring.drift_profile import ReferenceProfile
    from mlops_assets.training.model_artifact import OnnxScorer

    day = context.partition_key
    version, path = champion_reference(lake, registry)
    logged = _logged_scores(serving, day)
    if logged is not None and len(logged) >= 50:
        scores, source = logged, "gateway prediction log"
    else:
        events = lake.read_parquet("validated", f"{day}.parquet")
        scores = OnnxScorer(registry.download(registry.get_version(version))).predict_proba(d.encode(events))
        source = "champion scored the day's validated events"
    report = ReferenceProfile.load(path).compare(pd.DataFrame({"score": scores}), columns=["score"], alpha=config.alpha)
    payload = {**report.to_dict(), "markdown": report.to_markdown(), "champion_version": version, "day": day}
    payload["source"] = source
    lake.write_json(payload, "monitoring", "prediction_drift", f"{day}.json")
    export_monitoring_metrics(lake, serving)
    mean_score = sig(float(pd.Series(scores).mean())) or 0.0
    extra = {"source": source, "mean_score": mean_score, "champion_version": version}
    notes = [f"Scores: {source} ({len(scores)} rows, mean score {fmt(mean_score)})."]
    return report_result(payload, extra, PREDICTION_DRIFT_CHECK, "prediction_drift_report", notes)


def _logged_scores(serving: ServingResource, day: str):  # noqa: ANN202 - optional numpy array
    log = serving.prediction_log().read()
    if log.empty or "event_day" not in log.columns:
        return None
    chosen = log[(log["event_day"] == day) & (log["arm"] == "champion")]
    return chosen["score"].to_numpy() if len(chosen) else None


@dg.asset(
    group_name="monitoring",
    kinds={"pandera"},
    owners=OWNERS,
    partitions_def=DAYS,
    deps=["raw_churn_events", reference_profile],
    code_version="1",
    automation_condition=NEW_DAY,
    check_specs=[check_spec(QUALITY_CHECK, "feature_quality_report")],
)
def feature_quality_report(
    context: dg.AssetExecutionContext, lake: LakeResource, registry: ModelRegistryResource, serving: ServingResource
) -> dg.MaterializeResult:
    """Missing rates, out-of-range shares, unseen categories and schema changes of one raw day."""
    from mlops_assets.core import domain as d
    from mlops_assets.monitoring.drift_profile import ReferenceProfile
    from mlops_assets.monitoring.feature_quality import feature_quality

    day = context.partition_key
    version, path = champion_reference(lake, registry)
    raw = lake.read_parquet("raw", f"{day}.parquet")
    features = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
    quality = feature_quality(ReferenceProfile.load(path), raw, columns=features)
    payload = json.loads(json.dumps(quality.to_dict(), default=str))
    lake.write_json(payload, "monitoring", "feature_quality", f"{day}.json")
    export_monitoring_metrics(lake, serving)
    degraded, issues = bool(payload.get("degraded", False)), payload.get("issues", [])
    description = f"{day}: " + ("; ".join(map(str, issues))[:500] if degraded else "within the reference's limits")
    checked = {"day": day, "champion_version": str(version), "issues": dg.MetadataValue.json(issues)}
    verdict = verdict_check(QUALITY_CHECK, "feature_quality_report", degraded, description, checked)
    return dg.MaterializeResult(metadata=quality_metadata(payload, day, version), check_results=[verdict])


@dg.asset(
    group_name="monitoring",
    kinds={"scipy", "onnx"},
    owners=OWNERS,
    deps=[dg.AssetDep("validated_events", partition_mapping=dg.AllPartitionMapping()), reference_profile],
    code_version="1",
    automation_condition=NEW_LABELS,
    check_specs=[check_spec(CONCEPT_DRIFT_CHECK, "concept_drift_report")],
)
def concept_drift_report(
    config: MonitoringConfig, lake: LakeResource, registry: ModelRegistryResource
) -> dg.MaterializeResult:
    """Has the champion got worse on labels that arrived after it was trained? (batch test + Page-Hinkley).

    Only days from the champion's training cut-off on are read: the report runs whenever labels arrive, and
    reading the whole history each time would make its cost grow with the history rather than the news.
    """
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.features.assets import accepted_days, read_validated
    from mlops_assets.monitoring.concept_drift import log_loss_per_row, page_hinkley, performance_drop
    from mlops_assets.training.model_artifact import OnnxScorer

    version, _ = champion_reference(lake, registry)
    champion = registry.get_version(version)
    trained_as_of = pd.Timestamp(champion.tags["data.as_of"])
    days = accepted_days(lake)[0]
    events = read_validated(lake, [day for day in days if day >= str(trained_as_of.date())] or days[-1:])
    now = events[d.TIMESTAMP].max()
    fresh = events[(events[d.TIMESTAMP] > trained_as_of) & (events[d.LABEL_TIMESTAMP] <= now)].sort_values(d.TIMESTAMP)
    meta: dict = {"champion_version": version, "labelled_rows_since_training": len(fresh)}
    if len(fresh) < 200:
        reason = f"only {len(fresh)} new labelled rows"
        payload = {"dataset": {"drifted": False}, "reason": reason, **meta}
        headline = f"**Not enough evidence yet** for champion v{version}: {reason}."
        numbers = {"drifted": False, "reason": reason}
        failed, description, checked = False, f"not enough evidence yet: {reason}", {"champion_version": str(version)}
    else:
        scorer = OnnxScorer(registry.download(champion))
        reference = _dataset_split(lake, champion.tags["data.dataset_version"], "oot_test")
        ref = (reference[d.LABEL].to_numpy(), scorer.predict_proba(d.encode(reference)))
        cur = (fresh[d.LABEL].to_numpy(), scorer.predict_proba(d.encode(fresh)))
        drop = performance_drop(ref, cur, alpha=config.alpha)
        fired = page_hinkley(log_loss_per_row(*cur))
        fired_at = str(fresh[d.TIMESTAMP].iloc[fired]) if fired is not None else None
        payload = {"dataset": {"drifted": drop.drifted}, **drop.to_dict(), "page_hinkley_index": fired}
        payload["page_hinkley_at"] = fired_at
        headline = (
            f"**{'Concept drift' if drop.drifted else 'No concept drift'}**: champion v{version}'s error on "
            f"{len(fresh)} new labels {fmt(drop.current_error)} vs {fmt(drop.reference_error)} on its test set "
            f"(p {fmt(drop.p_value)}); AUC {fmt(drop.current_auc)} vs {fmt(drop.reference_auc)}. "
            f"Page-Hinkley: {'fired at ' + fired_at if fired_at else 'not fired'}."
        )
        numbers = {"drifted": drop.drifted, **{k: sig(getattr(drop, k)) for k in DROP_FIGURES}}
        numbers["page_hinkley_fired_at"] = fired_at or "not fired"
        failed, checked = drop.drifted, {"champion_version": str(version), "p_value": float(drop.p_value)}
        description = (
            f"champion v{version}: error {drop.current_error:.4f} on new labels vs "
            f"{drop.reference_error:.4f} on its test set (p {drop.p_value:.2g})"
        )
    lake.write_json(payload, "monitoring", "concept_drift", "latest.json")
    return dg.MaterializeResult(
        metadata={**leading(headline), **meta, **numbers},
        check_results=[verdict_check(CONCEPT_DRIFT_CHECK, "concept_drift_report", failed, description, checked)],
    )
