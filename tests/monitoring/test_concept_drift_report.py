"""The concept-drift report reads only the days since the champion's training, and counts what it would from all."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.features.assets import accepted_days, read_validated
from tests.lifecycle_runs import auto_approval, build_downstream, ingest_days
from tests.lifecycle_state import DOWNSTREAM

pytestmark = pytest.mark.slow


def test_new_labels_are_counted_from_the_days_since_training_alone(defs, instance, monkeypatch):
    ingest_days(defs, instance, "2026-01-01", "2026-01-10", {"rows_per_day": 800}, quiet=True)
    build_downstream(defs, instance, auto_approval(), selection=DOWNSTREAM, quiet=True)
    ingest_days(defs, instance, "2026-01-11", "2026-01-14", {"rows_per_day": 800}, quiet=True)
    lake, registry = defs.resources["lake"], defs.resources["registry"]
    read: list[list[str]] = []

    def spy(lake: object, days: list[str], columns: list[str] | None = None) -> pd.DataFrame:
        read.append(days)
        return read_validated(lake, days, columns)

    monkeypatch.setattr("mlops_assets.features.assets.read_validated", spy)
    result = build_downstream(defs, instance, selection=dg.AssetSelection.assets("concept_drift_report"), quiet=True)

    as_of = pd.Timestamp(registry.version_by_alias("champion").tags["data.as_of"])
    assert read == [[day for day in accepted_days(lake)[0] if day >= "2026-01-10"]]
    events = read_validated(lake, accepted_days(lake)[0])
    now = events[d.TIMESTAMP].max()
    expected = int(((events[d.TIMESTAMP] > as_of) & (events[d.LABEL_TIMESTAMP] <= now)).sum())
    metadata = result.asset_materializations_for_node("concept_drift_report")[0].metadata
    assert metadata["labelled_rows_since_training"].value == expected > 200
