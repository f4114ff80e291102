"""Monitoring: the champion's reference profile and daily drift, feature-quality and concept-drift reports.

Each report is an asset, so its history, plots and verdicts live in the Dagster UI, and the drift sensors
read them to decide on a retrain. The reference profile is computed once per champion version from its
training rows, so checking a new day never reloads the training data.
"""

import json
from typing import TYPE_CHECKING

import dagster as dg

from mlops_assets.automation import NEW_CHAMPION, NEW_LABELS
from mlops_assets.metadata import fmt, records_table, sig
from mlops_assets.monitoring.checks import (
    CONCEPT_DRIFT_CHECK,
    DATA_DRIFT_CHECK,
    PREDICTION_DRIFT_CHECK,
    QUALITY_CHECK,
    check_spec,
    verdict_check,
)
from mlops_assets.monitoring.daily_report import (
    MonitoringConfig,
    ReportDay,
    champion_reference,
    daily_report,
)
from mlops_assets.monitoring.metadata import leading, quality_metadata, report_result, segment_notes
from mlops_assets.monitoring.segment_profiles import save_profiles, segment_drift
from resources.model_registry import ModelRegistryResource
from resources.serving import ServingResource
from resources.storage import LakeResource

if TYPE_CHECKING:
    import pandas as pd

    from mlops_assets.monitoring.concept_report import ConceptVerdict

SEGMENT_TABLE = dict(segment="string", drifted="bool", share_drifted="float", drifted_columns="string", rows="int")
"""Columns of the per-segment verdicts table on a data-drift report."""
DROP_FIGURES = ("reference_error", "current_error", "reference_auc", "current_auc", "p_value")


@dg.asset(
    kinds={"scipy"},
    deps=["champion_model", "production_deployment"],
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


def _store_report(run: ReportDay, folder: str, payload: dict) -> None:
    """Keep one day's report where the drift sensors read it, and refresh the Prometheus metrics from it."""
    run.lake.write_json(payload, "monitoring", folder, f"{run.day}.json")
    export_monitoring_metrics(run.lake, run.serving)


def _drift_report(run: ReportDay, current: "pd.DataFrame", columns: list[str], **extra: object) -> dict:
    """``current`` compared with the champion's reference profile, as the report is stored."""
    from mlops_assets.monitoring.drift_profile import ReferenceProfile

    report = ReferenceProfile.load(run.reference_path).compare(current, columns=columns, alpha=run.alpha)
    return {
        **report.to_dict(),
        "markdown": report.to_markdown(),
        "champion_version": run.version,
        "day": run.day,
        **extra,
    }


@daily_report(DATA_DRIFT_CHECK, "data_drift_report", {"scipy"})
def data_drift_report(run: ReportDay) -> dg.MaterializeResult:
    """Feature drift of one day's validated events against the champion's reference profile."""
    from mlops_assets.core import domain as d

    current = run.lake.read_parquet("validated", f"{run.day}.parquet")
    columns = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
    segments = segment_drift(run.reference_path, current, columns, run.alpha)
    payload = _drift_report(run, current, columns, segments=segments)
    _store_report(run, "data_drift", payload)
    table = records_table([{"segment": name, **verdict} for name, verdict in sorted(segments.items())], SEGMENT_TABLE)
    extra = {"champion_version": run.version, "rows": dg.MetadataValue.int(len(current)), "segments": table}
    return report_result(payload, extra, DATA_DRIFT_CHECK, "data_drift_report", segment_notes(segments))


@daily_report(PREDICTION_DRIFT_CHECK, "prediction_drift_report", {"scipy", "onnx"})
def prediction_drift_report(run: ReportDay) -> dg.MaterializeResult:
    """Drift of the champion's score distribution on one day (from the gateway's log when it has the day)."""
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.training.model_artifact import OnnxScorer

    logged = _logged_scores(run.serving, run.day)
    if logged is not None and len(logged) >= 50:
        scores, source = logged, "gateway prediction log"
    else:
        events = run.lake.read_parquet("validated", f"{run.day}.parquet")
        champion = run.registry.download(run.registry.get_version(run.version))
        scores, source = (
            OnnxScorer(champion).predict_proba(d.encode(events)),
            "champion scored the day's validated events",
        )
    payload = _drift_report(run, pd.DataFrame({"score": scores}), ["score"], source=source)
    _store_report(run, "prediction_drift", payload)
    mean_score = sig(float(pd.Series(scores).mean())) or 0.0
    extra = {"source": source, "mean_score": mean_score, "champion_version": run.version}
    notes = [f"Scores: {source} ({len(scores)} rows, mean score {fmt(mean_score)})."]
    return report_result(payload, extra, PREDICTION_DRIFT_CHECK, "prediction_drift_report", notes)


def _logged_scores(serving: ServingResource, day: str):  # noqa: ANN202 - optional numpy array
    log = serving.prediction_log().read()
    if log.empty or "event_day" not in log.columns:
        return None
    chosen = log[(log["event_day"] == day) & (log["arm"] == "champion")]
    return chosen["score"].to_numpy() if len(chosen) else None


@daily_report(QUALITY_CHECK, "feature_quality_report", {"pandera"}, source="raw_churn_events")
def feature_quality_report(run: ReportDay) -> dg.MaterializeResult:
    """Missing rates, out-of-range shares, unseen categories and schema changes of one raw day."""
    from mlops_assets.core import domain as d
    from mlops_assets.monitoring.drift_profile import ReferenceProfile
    from mlops_assets.monitoring.feature_quality import feature_quality

    raw = run.lake.read_parquet("raw", f"{run.day}.parquet")
    features = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
    quality = feature_quality(ReferenceProfile.load(run.reference_path), raw, columns=features)
    payload = json.loads(json.dumps(quality.to_dict(), default=str))
    _store_report(run, "feature_quality", payload)
    degraded, issues = bool(payload.get("degraded", False)), payload.get("issues", [])
    description = f"{run.day}: " + ("; ".join(map(str, issues))[:500] if degraded else "within the reference's limits")
    checked = {"day": run.day, "champion_version": str(run.version), "issues": dg.MetadataValue.json(issues)}
    verdict = verdict_check(QUALITY_CHECK, "feature_quality_report", degraded, description, checked)
    return dg.MaterializeResult(metadata=quality_metadata(payload, run.day, run.version), check_results=[verdict])


@dg.asset(
    kinds={"scipy", "onnx"},
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

    from mlops_assets.features.assets import accepted_days, read_validated
    from mlops_assets.monitoring.concept_report import (
        MIN_LABELLED_ROWS,
        ConceptVerdict,
        concept_verdict,
        labelled_since,
    )
    from mlops_assets.training.model_artifact import OnnxScorer

    version, _ = champion_reference(lake, registry)
    champion = registry.get_version(version)
    trained_as_of = pd.Timestamp(champion.tags["data.as_of"])
    days = accepted_days(lake)[0]
    events = read_validated(lake, [day for day in days if day >= str(trained_as_of.date())] or days[-1:])
    fresh = labelled_since(events, trained_as_of)
    verdict = ConceptVerdict(version, len(fresh))
    if len(fresh) >= MIN_LABELLED_ROWS:
        scorer = OnnxScorer(registry.download(champion))
        reference = _dataset_split(lake, champion.tags["data.dataset_version"], "oot_test")
        verdict = concept_verdict(version, reference, fresh, scorer.predict_proba, config.alpha)
    lake.write_json(verdict.payload(), "monitoring", "concept_drift", "latest.json")
    check = verdict_check(
        CONCEPT_DRIFT_CHECK, "concept_drift_report", verdict.drifted, verdict.description(), verdict.checked()
    )
    return dg.MaterializeResult(metadata=_concept_metadata(verdict), check_results=[check])


def _concept_metadata(verdict: "ConceptVerdict") -> dict:
    """Metadata that leads with the verdict, then the numbers behind it."""
    version, drop = verdict.version, verdict.drop
    if drop is None:
        headline = f"**Not enough evidence yet** for champion v{version}: {verdict.reason}."
        return {**leading(headline), **verdict.summary(), "drifted": False, "reason": verdict.reason}
    fired_at = verdict.page_hinkley_at
    headline = (
        f"**{'Concept drift' if drop.drifted else 'No concept drift'}**: champion v{version}'s error on "
        f"{verdict.rows} new labels {fmt(drop.current_error)} vs {fmt(drop.reference_error)} on its test set "
        f"(p {fmt(drop.p_value)}); AUC {fmt(drop.current_auc)} vs {fmt(drop.reference_auc)}. "
        f"Page-Hinkley: {'fired at ' + fired_at if fired_at else 'not fired'}."
    )
    numbers = {"drifted": drop.drifted, **{k: sig(getattr(drop, k)) for k in DROP_FIGURES}}
    return {**leading(headline), **verdict.summary(), **numbers, "page_hinkley_fired_at": fired_at or "not fired"}
