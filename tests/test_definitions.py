"""The one ``Definitions`` object loads, validates, and has exactly the asset graph the lifecycle promises."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import dagster as dg
import pytest

from mlops_assets.definitions import defs
from tests.lifecycle_state import EXPECTED_ASSETS, LIFECYCLE_GROUPS

EXPECTED_PARENTS: dict[str, set[str]] = {
    "raw_churn_events": set(),
    "validated_events": {"raw_churn_events"},
    "quarantined_events": {"raw_churn_events"},
    "customer_feature_table": {"validated_events"},
    "feature_store_registry": {"customer_feature_table"},
    "online_features": {"customer_feature_table", "feature_store_registry"},
    "training_dataset": {"customer_feature_table", "feature_store_registry", "validated_events"},
    "trained_model": {"training_dataset"},
    "model_evaluation": {"trained_model"},
    "registered_model": {"model_evaluation"},
    "champion_model": {"registered_model"},
}
FRESH = ("customer_feature_table", "online_features", "training_dataset", "trained_model")
BLOCKING_CHECKS = {
    ("validated_events", "counts_reconcile"),
    ("validated_events", "table_contract"),
    ("validated_events", "rejection_rate_within_budget"),
    ("model_evaluation", "quality_floor"),
}


@pytest.fixture(scope="module")
def graph() -> dg.AssetGraph:
    return defs.resolve_asset_graph()


def _lifecycle_keys(graph: dg.AssetGraph) -> set[dg.AssetKey]:
    return {key for key in graph.get_all_asset_keys() if graph.get(key).group_name in LIFECYCLE_GROUPS}


def test_the_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_the_embedded_profile_roots_every_resource_in_the_data_dir_without_leaking_it(defs, data_dir):
    before = os.environ.get("MLOPS_DATA_DIR")
    resources = defs.resources
    assert resources["lake"].root == str(data_dir / "lake")
    assert resources["feast"].source_path.startswith(str(data_dir))
    assert str(data_dir) in resources["registry"].tracking_uri
    assert os.environ.get("MLOPS_DATA_DIR") == before != str(data_dir)


def test_the_lifecycle_has_exactly_the_pinned_assets():
    assert set(EXPECTED_PARENTS) == EXPECTED_ASSETS, "the pin and the shared fixture disagree"
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in _lifecycle_keys(graph)} == EXPECTED_ASSETS


def test_every_lifecycle_asset_has_exactly_the_pinned_parents(graph):
    parents = {
        key.to_user_string(): {parent.to_user_string() for parent in graph.get(key).parent_keys}
        for key in _lifecycle_keys(graph)
    }
    assert parents == EXPECTED_PARENTS


def test_no_lifecycle_asset_depends_on_an_asset_outside_the_lifecycle(graph):
    outside = {
        (key.to_user_string(), parent.to_user_string())
        for key in _lifecycle_keys(graph)
        for parent in graph.get(key).parent_keys
        if graph.get(parent).group_name not in LIFECYCLE_GROUPS
    }
    assert outside == set()


def test_every_asset_declares_group_owners_kinds_description_and_code_version(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.group_name and node.group_name != "default", f"{name} has no group"
        assert node.owners, f"{name} has no owners"
        assert node.kinds, f"{name} has no kinds"
        assert node.description and node.description.strip(), f"{name} has no description"
        assert node.code_version, f"{name} has no code_version"


@pytest.mark.parametrize("name", FRESH)
def test_features_dataset_and_model_declare_a_freshness_policy(graph, name):
    policy = graph.get(dg.AssetKey(name)).freshness_policy
    assert policy is not None, f"{name} has no freshness policy"
    assert dt.timedelta(0) < policy.fail_window.to_timedelta() <= dt.timedelta(days=31)


def test_bad_data_and_bad_models_are_stopped_by_blocking_checks():
    checks = {
        (spec.asset_key.to_user_string(), spec.name): spec.blocking
        for assets_def in defs.assets or []
        for spec in getattr(assets_def, "check_specs", [])
    }
    missing = BLOCKING_CHECKS - set(checks)
    assert not missing, f"checks not defined: {sorted(missing)}"
    not_blocking = sorted(check for check in BLOCKING_CHECKS if checks[check] is not True)
    assert not not_blocking, f"checks defined but not blocking: {not_blocking}"


def test_loading_the_definitions_does_not_import_feast_mlflow_or_sklearn():
    code = (
        "import sys\n"
        "import mlops_assets.definitions as m\n"
        "assert 'mlops_assets.definitions' in sys.modules and m.defs is not None\n"
        "print(sorted(name for name in ('feast', 'mlflow', 'sklearn') if name in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", "heavy libraries imported while loading the code location"
