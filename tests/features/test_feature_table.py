"""The Feast source table is written a day at a time and equals the whole table sorted in one piece."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.features.assets import read_validated, write_snapshots
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.partitions import day_window
from mlops_assets.validation.schema import build_schema, split_valid
from resources.storage import LakeResource

DAYS = ["2026-01-03", "2026-01-04", "2026-01-05"]


@pytest.fixture
def lake(tmp_path: Path) -> LakeResource:
    lake = LakeResource(root=str(tmp_path))
    for key in DAYS:
        raw = generate_day(dt.date.fromisoformat(key), rows=400, scenario="missing_spike" if key == DAYS[1] else "none")
        lake.write_parquet(split_valid(raw, build_schema(day_window(key))).valid, "validated", f"{key}.parquet")
    return lake


def test_the_day_by_day_table_equals_the_whole_table_sorted_at_once(lake: LakeResource, tmp_path: Path):
    preview, rows, latest = write_snapshots(lake, DAYS, tmp_path / "snapshots.parquet")

    whole = pd.concat([lake.read_parquet("validated", f"{day}.parquet") for day in DAYS], ignore_index=True)
    expected = whole[[d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]]
    expected = expected.sort_values([d.TIMESTAMP, d.ENTITY]).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "snapshots.parquet"), expected)
    pd.testing.assert_frame_equal(preview, expected.head(5))
    assert rows == len(expected) and latest == str(expected[d.TIMESTAMP].max())


def test_validated_days_read_as_one_frame_with_the_dtypes_pandas_wrote(lake: LakeResource):
    events = read_validated(lake, DAYS)

    expected = pd.concat([lake.read_parquet("validated", f"{day}.parquet") for day in DAYS], ignore_index=True)
    pd.testing.assert_frame_equal(events, expected)
    assert list(read_validated(lake, DAYS, columns=[d.ENTITY, d.LABEL]).columns) == [d.ENTITY, d.LABEL]
