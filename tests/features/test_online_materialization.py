"""The online store serves each customer's latest snapshot within the TTL, as Feast's own materialize writes it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from feast.online_response import TIMESTAMP_POSTFIX
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_assets.core import domain as d
from mlops_assets.features.feature_definitions import FEATURE_TTL, build_repo
from mlops_assets.features.online_materialization import key_order, materialize_latest, window_start
from mlops_assets.ingestion.generator import generate_day
from resources.feast_store import FeastResource

LATEST = pd.Timestamp("2026-03-01 08:00", tz="UTC")
NEWER, OLDER, STALE, FRESH = 1, 2, 3, 4
"""Customers: one with two snapshots (the newer must be served), one whose only snapshot is past the TTL."""
COLUMNS = ("customer_account__monthly_charges", "customer_account__plan", "customer_engagement__sessions_30d")


def feast_over(root: Path, snapshots: pd.DataFrame) -> FeastResource:
    """A Feast repo in ``root`` whose feature views read ``snapshots`` (written as the source file), applied."""
    root.mkdir(parents=True, exist_ok=True)
    source = root / "snapshots.parquet"
    snapshots.sort_values([d.TIMESTAMP, d.ENTITY]).to_parquet(source, index=False)
    feast = FeastResource(
        repo_path=str(root / "repo"),
        source_path=str(source),
        registry=str(root / "repo" / "registry.db"),
        sqlite_path=str(root / "repo" / "online_store.db"),
    )
    feast.store().apply(list(build_repo(str(source)).values()))
    return feast


def snapshots_of(customers: list[int], at: list[pd.Timestamp], charges: list[float]) -> pd.DataFrame:
    base = generate_day(dt.date(2026, 1, 5), rows=len(customers))
    base = base[[d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]]
    return base.assign(**{d.ENTITY: customers, d.TIMESTAMP: at, "monthly_charges": charges})


def online(feast: FeastResource, customers: list[int]) -> pd.DataFrame:
    """What serving reads for ``customers``, with each feature's event timestamp (seconds, ``<feature>__ts``)."""
    features = [f"customer_account:{n}" for n in d.ACCOUNT_FEATURES]
    features += [f"customer_engagement:{n}" for n in d.ENGAGEMENT_FEATURES]
    response = feast.store().get_online_features(
        features=features, entity_rows=[{d.ENTITY: c} for c in customers], full_feature_names=True
    )
    return pd.DataFrame(response.to_dict(include_event_timestamps=True)).set_index(d.ENTITY)


def test_the_online_store_serves_each_customers_newest_snapshot_and_none_past_the_ttl(tmp_path: Path):
    day = pd.Timedelta(days=1)
    snapshots = snapshots_of(
        [NEWER, NEWER, OLDER, STALE, FRESH],
        [LATEST - 3 * day, LATEST - day, LATEST - 2 * day, LATEST - FEATURE_TTL - day, LATEST],
        [10.0, 499.0, 20.0, 30.0, 40.0],
    )
    feast = feast_over(tmp_path, snapshots)

    written = materialize_latest(feast.store(), feast.source_path)

    served = online(feast, [NEWER, OLDER, STALE, FRESH])
    assert served.loc[[NEWER, OLDER, FRESH], "customer_account__monthly_charges"].tolist() == [499.0, 20.0, 40.0]
    newer_seconds = (LATEST - day).timestamp()
    assert served.loc[NEWER, [f"{c}{TIMESTAMP_POSTFIX}" for c in COLUMNS]].eq(newer_seconds).all()
    assert served.loc[STALE, list(COLUMNS)].isna().all(), "a snapshot older than the TTL was served"
    assert (written.start, written.end, written.entities) == (LATEST - FEATURE_TTL, LATEST + pd.Timedelta("1s"), 3)


def _online_rows(feast: FeastResource) -> dict[str, set[tuple]]:
    with sqlite3.connect(feast.feature_store_config()["online_store"]["path"]) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: set(db.execute(f'SELECT entity_key, feature_name, value, event_ts FROM "{t}"')) for t in tables}


def test_the_online_store_holds_exactly_what_feasts_materialize_writes(tmp_path: Path):
    days = [generate_day(dt.date(2026, 1, day), rows=300, population=400) for day in (5, 6, 7)]
    snapshots = pd.concat(days, ignore_index=True)[[d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]]
    ours, feasts = feast_over(tmp_path / "ours", snapshots), feast_over(tmp_path / "feast", snapshots)

    written = materialize_latest(ours.store(), ours.source_path)
    feasts.store().materialize(start_date=written.start, end_date=written.end)

    expected = _online_rows(feasts)
    assert _online_rows(ours) == expected
    assert written.entities == snapshots[d.ENTITY].nunique() == len(expected["churn_customer_account"]) // 8


@settings(deadline=None)  # the first example imports Feast (3 s)
@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=2, max_size=50, unique=True))
def test_rows_are_written_in_the_order_of_feasts_serialized_keys(customers: list[int]):
    import duckdb
    from feast.infra.key_encoding_utils import serialize_entity_key
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value

    def serialized(customer: int) -> bytes:
        key = EntityKey(join_keys=[d.ENTITY], entity_values=[Value(int64_val=customer)])
        return serialize_entity_key(key, entity_key_serialization_version=3)

    query = f"SELECT c FROM (SELECT unnest($ids::BIGINT[]) AS c) ORDER BY {key_order('c')}"
    ordered = duckdb.connect().execute(query, {"ids": customers}).fetchall()

    assert [c for (c,) in ordered] == sorted(customers, key=serialized)


EARLIEST = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("ttl", "latest", "start"),
    [
        (None, EARLIEST + dt.timedelta(days=90), EARLIEST - dt.timedelta(seconds=1)),
        (dt.timedelta(0), EARLIEST + dt.timedelta(days=90), EARLIEST - dt.timedelta(seconds=1)),
        (dt.timedelta(days=35), EARLIEST + dt.timedelta(days=20), EARLIEST - dt.timedelta(seconds=1)),
        (dt.timedelta(days=35), EARLIEST + dt.timedelta(days=90), EARLIEST + dt.timedelta(days=55)),
    ],
)
def test_the_window_starts_a_ttl_before_the_latest_snapshot_but_not_before_the_first(
    ttl: dt.timedelta | None, latest: dt.datetime, start: dt.datetime
):
    assert window_start(ttl, EARLIEST, latest) == start
