"""Feast on the production profile's services: the registry in PostgreSQL, the online store in Redis."""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.features.feature_definitions import FEATURE_SERVICE, build_repo
from mlops_assets.ingestion.generator import generate_day
from resources.feast_store import FeastResource
from tests.production.conftest import REDIS

pytestmark = [pytest.mark.production, pytest.mark.slow]


def test_materialize_and_read_online_features_through_redis_with_a_postgres_registry(new_database, tmp_path):
    snapshots = generate_day(dt.date(2026, 1, 5), rows=200).drop(columns=[d.LABEL, d.LABEL_TIMESTAMP, d.SEGMENT])
    source = tmp_path / "snapshots.parquet"
    snapshots.to_parquet(source)
    project = f"churn_{uuid.uuid4().hex[:8]}"  # Feast prefixes Redis keys by project: this run's own keys
    feast = FeastResource(
        repo_path=str(tmp_path / "repo"),
        source_path=str(source),
        registry=new_database("feast").replace("postgresql://", "postgresql+psycopg://"),
        online_store="redis",
        redis_connection_string=REDIS,
        project=project,
    )
    store = feast.store()
    store.apply(list(build_repo(str(source)).values()))
    try:
        store.materialize(
            start_date=snapshots[d.TIMESTAMP].min() - pd.Timedelta(hours=1),
            end_date=snapshots[d.TIMESTAMP].max() + pd.Timedelta(hours=1),
        )
        # a second store (another process or pod) finds the definitions in PostgreSQL and the rows in Redis
        other = feast.store()
        assert {v.name for v in other.list_feature_views()} == {"customer_account", "customer_engagement"}
        latest = snapshots.sort_values(d.TIMESTAMP).groupby(d.ENTITY).last()
        ids = latest.index[:20].tolist()
        online = other.get_online_features(
            features=other.get_feature_service(FEATURE_SERVICE), entity_rows=[{d.ENTITY: int(i)} for i in ids]
        ).to_df()
        online = online.set_index(d.ENTITY).loc[ids]
        for column in ("monthly_charges", "tenure_months"):
            assert online[column].tolist() == pytest.approx(latest.loc[ids, column].tolist())
        assert online["plan"].tolist() == latest.loc[ids, "plan"].tolist()
        assert _redis_keys(project) > 0
    finally:
        store.teardown()
    assert _redis_keys(project) == 0, "teardown left this run's keys in Redis"


def _redis_keys(project: str) -> int:
    import redis

    host, port = REDIS.split(":")
    client = redis.Redis(host=host, port=int(port))
    return sum(1 for key in client.scan_iter(count=1000) if project.encode() in key)
