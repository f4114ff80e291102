"""The parts of the graph around the lifecycle: deployment, monitoring, sensors and the retrain job."""

import dagster as dg

from mlops_assets.definitions import defs

EXPECTED_PARENTS = {
    "triton_model_repository": {"registered_model"},
    "canary_deployment": {"triton_model_repository"},
    "production_deployment": {"canary_deployment", "registered_model"},
    "reference_profile": {"champion_model", "production_deployment"},
    "data_drift_report": {"validated_events", "reference_profile"},
    "prediction_drift_report": {"validated_events", "reference_profile"},
    "feature_quality_report": {"raw_churn_events", "reference_profile"},
    "concept_drift_report": {"validated_events", "reference_profile"},
}


def test_deployment_and_monitoring_assets_have_exactly_the_pinned_parents():
    graph = defs.resolve_asset_graph()
    for name, parents in EXPECTED_PARENTS.items():
        node = graph.get(dg.AssetKey(name))
        assert {p.to_user_string() for p in node.parent_keys} == parents, name


def test_daily_reports_share_the_ingestion_partitions():
    graph = defs.resolve_asset_graph()
    raw = graph.get(dg.AssetKey("raw_churn_events")).partitions_def
    for name in ("data_drift_report", "prediction_drift_report", "feature_quality_report"):
        assert graph.get(dg.AssetKey(name)).partitions_def == raw


def test_drift_sensors_request_a_retrain_that_ends_on_canary_not_in_production():
    assert {s.name for s in defs.sensors} == {"landing_sensor", "drift_sensor", "canary_sensor", "automation"}
    job = defs.resolve_job_def("retrain")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"training_dataset", "trained_model", "model_evaluation", "registered_model", "canary_deployment"} <= keys
    assert not keys & {"champion_model", "production_deployment"}, "promotion stays behind the approval gate"
