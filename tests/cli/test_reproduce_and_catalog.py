"""``mlops reproduce`` rebuilds a registered model from its record; ``mlops features`` lists what exists."""

from __future__ import annotations

import json

import pytest

from mlops_assets.cli.feature_catalog import feature_catalog, render
from mlops_assets.cli.reproduce import reproduce
from mlops_assets.core import domain as d
from tests.lifecycle_state import Lifecycle

pytestmark = pytest.mark.slow


def test_the_champion_is_rebuilt_from_its_record_with_the_same_dataset_and_artifact_hash(lifecycle: Lifecycle):
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    result = reproduce(champion.version, lifecycle.resources)
    assert result.dataset_matches, result.differences()
    assert result.model_matches, result.differences()
    assert result.model_sha256_rebuilt == champion.tags["weights.sha256"]
    assert result.package_differences == {}
    assert "REPRODUCED" in result.render()


def test_a_record_whose_parameters_do_not_match_its_artifact_is_reported_with_what_differs(lifecycle: Lifecycle):
    registry = lifecycle.resources["registry"]
    champion = registry.version_by_alias("champion")
    params = json.loads(champion.tags["train.params"])
    # a version registered with the champion's artifact and data but a record claiming another seed
    forged = registry.register(
        champion.source,
        champion.run_id,
        {**champion.tags, "train.params": json.dumps({**params, "seed": params["seed"] + 1})},
    )
    result = reproduce(forged.version, lifecycle.resources)
    assert result.dataset_matches and not result.model_matches
    assert any(line.startswith("model: rebuilt sha256") for line in result.differences())
    assert "NOT REPRODUCED" in result.render()


def test_the_feature_catalog_matches_the_feast_registry_and_names_the_models_using_each_feature(
    lifecycle: Lifecycle,
):
    store = lifecycle.resources["feast"].store()
    catalog = {view["feature_view"]: view for view in feature_catalog(lifecycle.resources)}
    expected = {v.name: v for v in [*store.list_feature_views(), *store.list_on_demand_feature_views()]}
    assert catalog.keys() == expected.keys()
    for name, view in expected.items():
        entry = catalog[name]
        assert [f["name"] for f in entry["features"]] == [f.name for f in view.features]
        assert entry["owner"] == view.owner and entry["description"] == view.description
        assert all(f["description"] for f in entry["features"]), f"{name} has undocumented features"
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    label = f"{lifecycle.resources['registry'].model_name} v{champion.version}"
    used = {f["name"] for view in catalog.values() for f in view["features"] if label in f["used_by"]}
    assert used == set(d.MODEL_FEATURES)
    assert "monthly_charges" in render(list(catalog.values()))
