"""The landing sensor: landed days become partitions and one ingest run per batch, exactly once."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from mlops_assets.ingestion.producer import land_days
from mlops_assets.partitions import DAYS, RANGE_END, RANGE_START
from resources.landing import LandingResource
from sensors.landing import landing_sensor


@pytest.fixture
def landing(tmp_path) -> LandingResource:
    return LandingResource(root=str(tmp_path / "landing"))


def _tick(instance: dg.DagsterInstance, landing: LandingResource, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing})
    return landing_sensor(context)


def test_a_batch_of_landed_days_is_one_ingest_run_over_the_new_partitions(instance, landing):
    land_days(landing, dt.date(2026, 1, 1), 3, rows_per_day=50)
    result = _tick(instance, landing, None)
    (request,) = result.run_requests
    assert request.tags[RANGE_START] == "2026-01-01" and request.tags[RANGE_END] == "2026-01-03"
    assert request.tags["mlops/trigger"] == "landed:2026-01-01..2026-01-03"
    (added,) = result.dynamic_partitions_requests
    assert added.partitions_def_name == DAYS.name
    assert list(added.partition_keys) == ["2026-01-01", "2026-01-02", "2026-01-03"]


def test_nothing_new_means_no_run_and_a_changed_day_is_ingested_again(instance, landing):
    land_days(landing, dt.date(2026, 1, 1), 2, rows_per_day=50)
    first = _tick(instance, landing, None)
    instance.add_dynamic_partitions(DAYS.name, ["2026-01-01", "2026-01-02"])
    again = _tick(instance, landing, first.cursor)
    assert not again.run_requests and again.skip_reason is not None

    land_days(landing, dt.date(2026, 1, 2), 1, rows_per_day=60)  # the producer re-delivers one day
    changed = _tick(instance, landing, first.cursor)
    (request,) = changed.run_requests
    assert request.partition_key == "2026-01-02"
    assert not changed.dynamic_partitions_requests, "the partition exists already"


def test_a_day_folder_without_data_files_has_not_landed(instance, landing, tmp_path):
    (tmp_path / "landing" / "2026-01-05").mkdir(parents=True)
    (tmp_path / "landing" / "2026-01-05" / "events.parquet.tmp").write_bytes(b"half a file")
    assert landing.landed() == {}
    assert not _tick(instance, landing, None).run_requests
