"""What the tests share besides fixtures: the pinned graph, the standard lifecycle's size, and builders.

Tests and benchmarks import these from here, never from ``conftest.py`` (which pytest owns and loads
itself); the fixtures in ``conftest.py`` are built from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.lifecycle_runs import PARTITIONED_GROUPS

FIRST_DAY, LAST_DAY = "2026-01-01", "2026-01-14"
ROWS_PER_DAY = 800
LIFECYCLE_GROUPS = ("ingestion", "validation", "features", "datasets", "training", "evaluation", "registry")
"""The groups of the train-and-promote lifecycle; monitoring reads the champion and is tested on its own."""

EXPECTED_ASSETS = frozenset(
    {
        "raw_churn_events",
        "validated_events",
        "quarantined_events",
        "customer_feature_table",
        "feature_store_registry",
        "online_features",
        "training_dataset",
        "trained_model",
        "model_evaluation",
        "registered_model",
        "champion_model",
    }
)
DOWNSTREAM = dg.AssetSelection.groups(*LIFECYCLE_GROUPS) - dg.AssetSelection.groups(*PARTITIONED_GROUPS)
"""Everything after validation up to the champion (features, dataset, model, evaluation, registry)."""


def feature_row(number: float = 1.0, category: int = 0) -> dict[str, Any]:
    """A complete raw feature row for ``POST /v1/predict``: every number ``number``, every category its
    ``category``-th allowed value."""
    from mlops_assets.core import domain as d

    return {c: number for c in d.NUMERIC_NAMES} | {c.name: c.categories[category] for c in d.CATEGORICAL}


def make_definitions(data_dir: Path) -> dg.Definitions:
    """The embedded profile's ``Definitions`` with every resource rooted at ``data_dir``."""
    from mlops_assets.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_DATA_DIR", str(data_dir))
        patch.delenv("MLOPS_PROFILE", raising=False)
        return build_definitions("embedded")


@dataclass(frozen=True)
class Lifecycle:
    """One healthy end-to-end run: its definitions, instance, data folder and the two run results."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    data_dir: Path
    ingestion: dg.ExecuteInProcessResult
    downstream: dg.ExecuteInProcessResult

    @property
    def results(self) -> list[dg.ExecuteInProcessResult]:
        return [self.ingestion, self.downstream]

    @property
    def resources(self) -> dict[str, Any]:
        return self.defs.resources

    def metadata(self, asset: str) -> dict[str, Any]:
        """The metadata values the first (healthy) run recorded for ``asset``."""
        for result in self.results:
            for event in result.get_asset_materialization_events():
                if event.asset_key.to_user_string() == asset:
                    return {k: v.value for k, v in event.materialization.metadata.items()}
        raise KeyError(f"the lifecycle run did not materialize {asset!r}")
