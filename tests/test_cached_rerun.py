"""Features are computed once: a rerun with nothing changed materializes nothing; a changed feature
definition recomputes only what depends on it, and stops where the output did not change."""

from __future__ import annotations

import dagster as dg
import pytest

from mlops_assets.lifecycle_runs import auto_approval, build_downstream, ingest_days
from mlops_assets.staleness import refresh, stale_assets
from tests.conftest import DOWNSTREAM

pytestmark = pytest.mark.slow


def _keys(defs: dg.Definitions) -> list[dg.AssetKey]:
    return list(defs.resolve_asset_graph().get_all_asset_keys())


def _latest_storage_id(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> int:
    latest = [instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=k), limit=1).records for k in keys]
    return max((records[0].storage_id for records in latest if records), default=0)


def _materialized_after(instance: dg.DagsterInstance, keys: list[dg.AssetKey], storage_id: int) -> list[str]:
    """Assets with a materialization event after ``storage_id`` in the instance's event log."""
    return sorted(
        key.to_user_string()
        for key in keys
        if instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=storage_id), limit=1
        ).records
    )


def _with_code_version(defs: dg.Definitions, asset: str, version: str) -> dg.Definitions:
    key = dg.AssetKey(asset)
    assets = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(code_version=version) if spec.key == key else spec, list(defs.assets)
    )
    return dg.Definitions(assets=assets, resources=defs.resources, sensors=defs.sensors, jobs=defs.jobs)


def test_a_rerun_recomputes_nothing_and_a_changed_feature_definition_only_what_depends_on_it(defs, instance):
    ingest_days(defs, instance, "2026-01-01", "2026-01-12", {"rows_per_day": 800}, quiet=True)
    build_downstream(defs, instance, auto_approval(), selection=DOWNSTREAM, quiet=True)

    # a rerun with unchanged inputs and code: nothing stale, nothing materialized
    assert stale_assets(defs, instance, DOWNSTREAM) == set()
    keys = _keys(defs)
    before = _latest_storage_id(instance, keys)
    report = refresh(defs, instance, DOWNSTREAM, auto_approval())
    assert report.materialized == [] and _materialized_after(instance, keys, before) == []

    # a new code version of the Feast feature definitions: the features after it are stale, nothing before it
    changed = _with_code_version(defs, "feature_store_registry", "2")
    stale = stale_assets(changed, instance, DOWNSTREAM)
    assert "feature_store_registry" in stale and "customer_feature_table" not in stale
    report = refresh(changed, instance, DOWNSTREAM, auto_approval())
    materialized = _materialized_after(instance, keys, before)
    assert "customer_feature_table" not in materialized
    assert report.rounds[0] == ["feature_store_registry"]
    # the training rows came out identical (same content hash = same data version), so no retrain
    assert "training_dataset" in materialized and "trained_model" not in materialized
    assert stale_assets(changed, instance, DOWNSTREAM) == set()
