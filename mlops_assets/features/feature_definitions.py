"""The Feast repository, defined in code: entity, batch source, feature views, an on-demand view, a service.

Features are declared once here and used by the training dataset (point-in-time join) and by the serving
gateway (online reads) alike. Importing this module imports Feast (about 3 s), so only asset bodies and
the gateway import it, never the ``Definitions`` load path. The batch source is the same parquet file for
every offline store; only its kind differs (Feast's Spark store reads nothing but a ``SparkSource``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.data_source import DataSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, String

from mlops_assets.core import domain as d

FEATURE_SERVICE = "churn_model"
FEATURE_TTL = dt.timedelta(days=35)
OWNER = "ml-platform@example.com"


def _field(name: str) -> Field:
    dtype = String if name in d.CATEGORICAL_NAMES else Float64
    return Field(name=name, dtype=dtype, description=_describe(name))


def _describe(name: str) -> str:
    for column in (*d.NUMERIC, *d.CATEGORICAL):
        if column.name == name:
            return column.description
    return ""


def snapshot_source(source_path: str, offline_store: str = "duckdb") -> DataSource:
    """The parquet file of customer snapshots as the ``offline_store`` reads it (``duckdb``, ``file``, ``spark``).

    For Spark the source is a query over the same file: pandas writes nanosecond timestamps, which Spark
    reads only as integers (``spark.sql.legacy.parquet.nanosAsLong``, set by the Feast resource), so the
    query turns them into Spark's microsecond ``TIMESTAMP`` (snapshots are stamped to the second).
    """
    common: dict[str, Any] = {
        "name": "customer_snapshots",
        "timestamp_field": d.TIMESTAMP,
        "description": "Validated daily customer snapshots, written by the customer_feature_table asset.",
    }
    if offline_store != "spark":
        return FileSource(path=source_path, **common)
    from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import SparkSource

    columns = ", ".join((d.ENTITY, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES))
    timestamp = f"timestamp_micros({d.TIMESTAMP} DIV 1000) AS {d.TIMESTAMP}"
    return SparkSource(query=f"SELECT {columns}, {timestamp} FROM parquet.`{source_path}`", **common)


def build_repo(source_path: str, offline_store: str = "duckdb") -> dict[str, Any]:
    """Return every Feast object of the repo, keyed by name, reading snapshots from ``source_path``.

    ``offline_store`` must be the store of the ``feature_store.yaml`` the objects are applied to, because
    it decides the kind of batch source (see ``snapshot_source``).
    """
    customer = Entity(
        name="customer",
        join_keys=[d.ENTITY],
        value_type=ValueType.INT64,
        description="A subscriber; the key of every churn feature.",
        owner=OWNER,
    )
    source = snapshot_source(source_path, offline_store)

    def snapshot_view(name: str, features: Sequence[str], description: str) -> FeatureView:
        """A view of some of the snapshot's columns: same customer, source, TTL and owner as the others."""
        return FeatureView(
            name=name,
            entities=[customer],
            ttl=FEATURE_TTL,
            schema=[_field(n) for n in features],
            source=source,
            online=True,
            description=description,
            owner=OWNER,
            tags={"domain": "churn", "team": "ml-platform"},
        )

    account = snapshot_view("customer_account", d.ACCOUNT_FEATURES, "Contract and billing state of the customer.")
    engagement = snapshot_view(
        "customer_engagement", d.ENGAGEMENT_FEATURES, "How much and how happily the customer uses the product."
    )

    # The fields carry no descriptions: Feast 0.67's schema inference compares Fields description included
    # and rejects the view; `mlops features` takes them from domain.DERIVED_DESCRIPTIONS instead.
    @on_demand_feature_view(
        sources=[account, engagement],
        schema=[Field(name=n, dtype=Float64) for n in d.DERIVED],
        mode="pandas",
        description="Ratios computed at request time from the account and engagement views.",
        owner=OWNER,
    )
    def customer_ratios(inputs: pd.DataFrame) -> pd.DataFrame:
        # Feast re-compiles this body from source, so it imports what it needs itself.
        from mlops_assets.core.domain import derive

        return derive(inputs)

    service = FeatureService(
        name=FEATURE_SERVICE,
        features=[account, engagement, customer_ratios],
        description="Every feature the churn model reads, for training and serving alike.",
        owner=OWNER,
    )
    return {
        "customer": customer,
        "customer_snapshots": source,
        "customer_account": account,
        "customer_engagement": engagement,
        "customer_ratios": customer_ratios,
        FEATURE_SERVICE: service,
    }
