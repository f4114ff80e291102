"""The whole lifecycle on the embedded profile: real Dagster, Feast and MLflow in a temporary folder.

Read-only tests come first and share the session's healthy run; the tests at the end add a bad day and
new candidate models to that same run and check that the gates hold (they never move the champion).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from mlops_assets.datasets.dataset_split import content_hash
from mlops_assets.datasets.manifest import DatasetManifest, read_manifest
from resources.record_io_manager import read_record
from tests.lifecycle_runs import build_downstream, ingest_days
from tests.lifecycle_state import EXPECTED_ASSETS, ROWS_PER_DAY, Lifecycle

pytestmark = pytest.mark.slow

REGISTRY_TAGS = (
    "weights.sha256",
    "weights.size_bytes",
    "weights.format",
    "weights.quantization",
    "data.dataset_version",
    "data.filters",
    "data.split_ratios",
    "data.transformations",
    "eval.oot_roc_auc",
    "deploy.config",
    "approval.approved_by",
    "approval.approved_at",
    "approval.status",
)
MODEL_STEPS = dg.AssetSelection.assets("trained_model", "model_evaluation", "registered_model", "champion_model")
BROKEN_DAY = "2026-01-15"
BROKEN_ROWS = 400


def test_a_full_materialization_succeeds_and_materializes_every_asset(lifecycle: Lifecycle):
    assert all(result.success for result in lifecycle.results)
    materialized = {
        event.asset_key.to_user_string()
        for result in lifecycle.results
        for event in result.get_asset_materialization_events()
    }
    assert materialized == EXPECTED_ASSETS
    failed = [
        (e.asset_key.to_user_string(), e.check_name)
        for result in lifecycle.results
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    assert failed == []


def test_ingesting_a_day_into_a_fresh_platform_records_that_partition_and_its_files(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path
):
    result = ingest_days(defs, instance, "2026-01-03", "2026-01-03", {"rows_per_day": 200}, quiet=True)
    assert result.success
    assert instance.get_materialized_partitions(dg.AssetKey("validated_events")) == {"2026-01-03"}
    assert (data_dir / "lake" / "validated" / "2026-01-03.parquet").exists()
    assert instance.get_latest_materialization_event(dg.AssetKey("trained_model")) is None


def test_the_healthy_days_are_validated_without_quarantine(lifecycle: Lifecycle):
    meta = lifecycle.metadata("validated_events")  # the first day's own materialization
    assert meta["dagster/row_count"] == ROWS_PER_DAY and meta["quarantined"] == 0


def test_the_champion_carries_the_full_registry_record(lifecycle: Lifecycle):
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    assert champion is not None, "no champion alias after a healthy run with automatic approval"
    missing = [tag for tag in REGISTRY_TAGS if not champion.tags.get(tag)]
    assert missing == []
    assert champion.tags["weights.format"] == "onnx"
    assert champion.tags["approval.status"] == "approved"
    assert champion.tags["approval.automatic"] == "true"
    assert float(champion.tags["eval.oot_roc_auc"]) >= 0.70
    assert json.loads(champion.tags["deploy.config"])["server"] == "triton"
    assert champion.tags["weights.sha256"] == lifecycle.metadata("trained_model")["sha256"]


def test_the_registered_artifact_is_byte_identical_to_its_recorded_hash(lifecycle: Lifecycle, tmp_path: Path):
    registry = lifecycle.resources["registry"]
    champion = registry.version_by_alias("champion")
    # downloaded straight from MLflow, not through the registry resource (which checks the hash itself)
    from mlflow.artifacts import download_artifacts

    location = registry.client().get_model_version_download_uri(registry.model_name, champion.version)
    local = Path(download_artifacts(artifact_uri=f"{location}/model.onnx", dst_path=str(tmp_path)))
    data = local.read_bytes()
    assert hashlib.sha256(data).hexdigest() == champion.tags["weights.sha256"]
    assert len(data) == int(champion.tags["weights.size_bytes"])
    assert registry.download(champion) == data


def test_alias_moves_are_recorded_with_actor_and_reason(lifecycle: Lifecycle):
    history = lifecycle.resources["registry"].alias_history()
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    first = {}
    for entry in history:
        first.setdefault(entry.alias, entry)
    assert {"challenger", "champion"} <= set(first)
    challenger_move, champion_move = first["challenger"], first["champion"]
    assert challenger_move.actor and challenger_move.reason
    assert champion_move.actor == "mlops demo (automatic approval)"
    assert "clears the floor" in champion_move.reason and "automatically" in champion_move.reason
    assert str(champion_move.version) == str(champion.version) == str(challenger_move.version)
    assert champion_move.dagster_run_id == lifecycle.downstream.run_id


def test_the_training_dataset_records_its_version_splits_filters_and_transformations(lifecycle: Lifecycle):
    lake = lifecycle.resources["lake"]
    manifest = read_record(lake, "training_dataset", DatasetManifest)
    assert set(manifest.split_ratios) == {"train", "validation", "oot_test"}
    assert sum(manifest.split_ratios.values()) == pytest.approx(1.0, abs=1e-3)
    assert all(0 < share < 1 for share in manifest.split_ratios.values())
    assert manifest.filters and manifest.transformations
    assert read_manifest(lake, manifest.version) == manifest
    dataset = lake.read_parquet("datasets", manifest.version, "dataset.parquet")
    assert content_hash(dataset) == manifest.sha256
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    assert champion.tags["data.dataset_version"] == manifest.version
    assert json.loads(champion.tags["data.split_ratios"]) == manifest.split_ratios


@pytest.fixture(scope="module")
def broken_day(lifecycle: Lifecycle) -> tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult]:
    # given a healthy lifecycle, when a day arrives with a broken schema and the features are rebuilt
    ingested = ingest_days(
        lifecycle.defs,
        lifecycle.instance,
        BROKEN_DAY,
        BROKEN_DAY,
        {"scenario": "schema_break", "rows_per_day": BROKEN_ROWS},
        raise_on_error=False,
        quiet=True,
    )
    rebuilt = build_downstream(
        lifecycle.defs, lifecycle.instance, selection=dg.AssetSelection.assets("customer_feature_table"), quiet=True
    )
    return ingested, rebuilt


def test_a_schema_break_fails_the_blocking_contract_check_and_quarantines_every_row(
    lifecycle: Lifecycle, broken_day: tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult]
):
    ingested, _ = broken_day
    checks = {e.check_name: e.passed for e in ingested.get_asset_check_evaluations()}
    assert checks["table_contract"] is False
    assert checks["counts_reconcile"] is True
    lake = lifecycle.resources["lake"]
    quarantined = lake.read_parquet("quarantine", f"{BROKEN_DAY}.parquet")
    assert len(quarantined) == BROKEN_ROWS
    assert quarantined["rejection_reasons"].str.contains("missing column 'plan'", regex=False).all()
    assert len(lake.read_parquet("validated", f"{BROKEN_DAY}.parquet")) == 0


def test_features_rebuilt_after_a_rejected_day_leave_that_day_out(
    lifecycle: Lifecycle, broken_day: tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult]
):
    _, rebuilt = broken_day
    assert rebuilt.success
    (event,) = rebuilt.get_asset_materialization_events()
    assert event.materialization.metadata["held_back_days"].value == [BROKEN_DAY]
    snapshots = pd.read_parquet(lifecycle.resources["feast"].source_path)
    days = set(snapshots["event_timestamp"].dt.strftime("%Y-%m-%d"))
    assert BROKEN_DAY not in days
    assert "2026-01-14" in days and len(days) == 14


def test_a_promotion_without_the_required_approval_leaves_the_champion_in_place(lifecycle: Lifecycle):
    registry = lifecycle.resources["registry"]
    champion_before = registry.version_by_alias("champion")
    # given a new candidate (other seed and more trees, so a different artifact) that passes floor and margin
    run_config = dg.RunConfig(
        ops={
            "trained_model": {"config": {"seed": 7, "max_iter": 150}},
            "model_evaluation": {"config": {"min_oot_auc": 0.0}},
            "champion_model": {"config": {"approval_required": True, "approved_by": "", "min_improvement": -1.0}},
        }
    )
    # when the registry gate runs without anyone approving it
    result = build_downstream(lifecycle.defs, lifecycle.instance, run_config, selection=MODEL_STEPS, quiet=True)
    # then the champion stays and the challenger waits for approval, saying so in the registry
    assert result.success
    challenger = registry.version_by_alias("challenger")
    assert challenger.tags["weights.sha256"] != champion_before.tags["weights.sha256"]
    assert registry.version_by_alias("champion").version == champion_before.version
    assert challenger.version != champion_before.version
    assert challenger.tags["approval.status"] == "awaiting_approval"
    assert "approval required" in challenger.tags["approval.reasons"]

    # and a person's approval from the shell is recorded on that version, for the decision run to find
    from mlops_assets.cli.approval import ApprovalRefused, approve

    with pytest.raises(ApprovalRefused, match="not the challenger"):
        approve(registry, str(champion_before.version), "alice@example.com")
    assert "approved by alice" in approve(registry, str(challenger.version), "alice@example.com")
    tags = registry.get_version(challenger.version).tags
    assert tags["approval.approved_by"] == "alice@example.com" and tags["approval.automatic"] == "false"


def test_a_worse_model_is_refused_by_the_gate_even_when_approved(lifecycle: Lifecycle):
    registry = lifecycle.resources["registry"]
    champion_before = registry.version_by_alias("champion")
    # given a deliberately weak candidate, let past the evaluation check so the gate itself must stop it
    run_config = dg.RunConfig(
        ops={
            "trained_model": {"config": {"max_iter": 1, "learning_rate": 0.01, "max_leaf_nodes": 2}},
            "model_evaluation": {"config": {"min_oot_auc": 0.0}},
            "champion_model": {"config": {"approved_by": "alice@example.com"}},
        }
    )
    result = build_downstream(lifecycle.defs, lifecycle.instance, run_config, selection=MODEL_STEPS, quiet=True)
    assert result.success
    challenger = registry.version_by_alias("challenger")
    assert challenger.tags["weights.sha256"] != champion_before.tags["weights.sha256"]
    assert float(challenger.tags["eval.oot_roc_auc"]) < float(champion_before.tags["eval.oot_roc_auc"])
    assert registry.version_by_alias("champion").version == champion_before.version
    assert challenger.tags["approval.status"] == "refused"
    reasons = challenger.tags["approval.reasons"]
    assert "below the floor" in reasons or "below the required margin" in reasons, reasons
