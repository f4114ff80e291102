"""The production profile's distributed engine, Feast's Spark offline store, joins exactly as DuckDB does.

The real training join (``join_dataset``) runs through Feast's Spark store on a local-mode Spark
(``local[2]``, bound to loopback, no UI, two shuffle partitions, tuned to start fast) over a
``SparkSource`` reading the same parquet file, and through the embedded default (DuckDB). The snapshot
table ends with a snapshot of every customer stamped after all events, carrying a value no customer has
(``monthly_charges = 499``): no training row may see it, except the rows stamped exactly then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.datasets.assets import join_dataset
from mlops_assets.datasets.dataset_split import SplitSpec, content_hash
from mlops_assets.features.feature_definitions import FEATURE_TTL
from mlops_assets.ingestion.generator import generate_day
from resources.feast_store import FeastResource
from tests.feast_repos import feast_in

pytestmark = pytest.mark.slow
pytest.importorskip("pyspark", reason="the spark extra (pip install .[spark]) is not installed")

FUTURE = pd.Timestamp("2026-01-05 12:00", tz="UTC")
FUTURE_CHARGES, FUTURE_PLAN = 499.0, "premium"
AT_FUTURE = 10
"""Customers that also have an event stamped exactly at the future snapshot (which they must see)."""
QUICK_START = {
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}
"""For a few hundred rows on two cores: the JVM's quick compiler and no code generation take the session
start and the first join from about 45 s + 80 s to 20 s + 25 s here; none of it changes a result."""


@pytest.fixture(scope="module")
def snapshots_and_events(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Four days of 60 events from 80 customers (most seen twice or more), and their snapshot file."""
    root = tmp_path_factory.mktemp("spark-pit")
    days = [generate_day(dt.date(2026, 1, 1) + dt.timedelta(days=i), rows=60, population=80) for i in range(4)]
    events = pd.concat(days, ignore_index=True)
    assert events[d.TIMESTAMP].max() < FUTURE
    snapshots = events[[d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]]
    assert (snapshots["monthly_charges"] != FUTURE_CHARGES).all(), "the future value must be distinguishable"
    future = snapshots.drop_duplicates(d.ENTITY).assign(
        **{d.TIMESTAMP: FUTURE, "monthly_charges": FUTURE_CHARGES, "plan": FUTURE_PLAN}
    )
    source = root / "snapshots.parquet"
    pd.concat([snapshots, future], ignore_index=True).to_parquet(source)
    at_future = events.drop_duplicates(d.ENTITY).head(AT_FUTURE)
    at_future = at_future.assign(**{d.TIMESTAMP: FUTURE, d.LABEL_TIMESTAMP: FUTURE + pd.Timedelta(days=3)})
    return source, pd.concat([events, at_future], ignore_index=True)


@pytest.fixture(scope="module")
def spark_feast(snapshots_and_events, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeastResource]:
    source, _ = snapshots_and_events
    yield feast_in(
        tmp_path_factory.mktemp("spark-repo"), source, "spark", spark_master="local[2]", spark_conf=QUICK_START
    )
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()  # the JVM's memory goes back before the next module's tests


@pytest.fixture(scope="module")
def joins(snapshots_and_events, spark_feast, tmp_path_factory) -> dict[str, pd.DataFrame]:
    source, events = snapshots_and_events
    stores = {"spark": spark_feast, "duckdb": feast_in(tmp_path_factory.mktemp("duckdb-repo"), source, "duckdb")}
    as_of, spec = events[d.LABEL_TIMESTAMP].max(), SplitSpec(oot_days=1)
    return {name: join_dataset(events, as_of, feast, spec) for name, feast in stores.items()}


def test_the_spark_join_gives_the_rows_values_and_dtypes_of_the_duckdb_join(joins, snapshots_and_events):
    _, events = snapshots_and_events
    assert len(joins["spark"]) == len(events)
    pd.testing.assert_frame_equal(joins["spark"], joins["duckdb"])
    assert content_hash(joins["spark"]) == content_hash(joins["duckdb"])


def test_no_spark_training_row_sees_a_snapshot_stamped_after_it(joins, snapshots_and_events):
    source, _ = snapshots_and_events
    rows = joins["spark"]
    before, at = rows[rows[d.TIMESTAMP] < FUTURE], rows[rows[d.TIMESTAMP] == FUTURE]
    # the future snapshot is invisible to every earlier row, and seen by the rows stamped exactly then
    assert (before["monthly_charges"] != FUTURE_CHARGES).all()
    assert len(at) == AT_FUTURE
    assert (at["monthly_charges"] == FUTURE_CHARGES).all() and (at["plan"] == FUTURE_PLAN).all()
    # and every row carries its customer's latest snapshot at or before the row's own time
    expected = pd.merge_asof(
        rows[[d.ENTITY, d.TIMESTAMP]],
        pd.read_parquet(source).sort_values(d.TIMESTAMP),
        on=d.TIMESTAMP,
        by=d.ENTITY,
        direction="backward",
        tolerance=pd.Timedelta(FEATURE_TTL),
    )
    for column in d.NUMERIC_NAMES:
        np.testing.assert_allclose(rows[column].to_numpy(float), expected[column].to_numpy(float), equal_nan=True)
    assert (rows[list(d.CATEGORICAL_NAMES)].to_numpy() == expected[list(d.CATEGORICAL_NAMES)].to_numpy()).all()
    # which proves something: most customers have an earlier snapshot a join ignoring time could have used
    assert rows[d.ENTITY].duplicated().sum() >= 100


def test_materializing_through_spark_serves_each_customers_latest_snapshot(spark_feast, snapshots_and_events):
    _, events = snapshots_and_events
    store = spark_feast.store()
    second = dt.timedelta(seconds=1)
    store.materialize(start_date=events[d.TIMESTAMP].min().to_pydatetime() - second, end_date=FUTURE + second)
    customers = events[d.ENTITY].drop_duplicates().head(5).tolist()
    online = store.get_online_features(
        features=["customer_account:monthly_charges", "customer_account:plan"],
        entity_rows=[{d.ENTITY: int(c)} for c in customers],
    ).to_dict()
    assert online["monthly_charges"] == [FUTURE_CHARGES] * 5 and online["plan"] == [FUTURE_PLAN] * 5
