"""Features: the offline snapshot table Feast reads, the applied Feast repo, and the online store."""

import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

from mlops_assets.automation import ALL_DAYS, FEATURE_CODE
from mlops_assets.metadata import column_lineage, records_table, same_columns, table_metadata
from resources.feast_store import FeastResource
from resources.storage import LakeResource

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd


def _definitions_fingerprint() -> str:
    """The code version of everything Feast-defined: a hash of the modules that define the features.

    Editing a feature view, a field or the on-demand transformation changes it, so Dagster marks the
    registry and everything that read features as stale, and automation recomputes just those.
    Read from source files (no Feast import), so Definitions stay fast to load.
    """
    import hashlib
    from pathlib import Path

    package = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for source in (package / "features" / "feature_definitions.py", package / "core" / "domain.py"):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


FEATURE_CODE_VERSION = _definitions_fingerprint()

FEATURE_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(days=1), warn_window=dt.timedelta(hours=12))


NO_ACCEPTED_DAY = "no accepted validated day exists yet: materialize raw_churn_events and validated_events"


def accepted_days(lake: LakeResource) -> tuple[list[str], list[str]]:
    """Days whose validation was accepted, and days held back because validation rejected them."""
    accepted, held_back = [], []
    for summary_path in sorted(lake.path("validated").glob("*.json")):
        summary = lake.read_json("validated", summary_path.name)
        (accepted if summary["accepted"] else held_back).append(summary_path.stem)
    return accepted, held_back


def read_validated(lake: LakeResource, days: list[str], columns: list[str] | None = None) -> "pd.DataFrame":
    """The validated events of ``days`` (only ``columns``, when given) as one frame, in day order.

    Read a day at a time and concatenated: at 3M rows that peaks lower than one Arrow table converted whole.
    """
    import pandas as pd

    if not days:
        raise dg.Failure(NO_ACCEPTED_DAY)
    return pd.concat([pd.read_parquet(_validated_path(lake, day), columns=columns) for day in days], ignore_index=True)


def _validated_path(lake: LakeResource, day: str) -> "Path":
    path = lake.path("validated", f"{day}.parquet")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: materialize validated_events for {day} first")
    return path


def write_snapshots(lake: LakeResource, days: list[str], path: "Path") -> tuple["pd.DataFrame", int, str]:
    """Write the feature snapshots of ``days`` to ``path``, one day at a time; (preview, rows, latest event).

    Each validated day holds only events inside its own day (the contract bounds the timestamps), so days
    sorted by date, each sorted by (time, customer), are the whole table in (time, customer) order: memory
    holds one day and the compressed file, never the table.
    """
    import io

    import pandas as pd
    import pyarrow.parquet as pq

    from mlops_assets.core import domain as d
    from resources import atomic

    columns = [d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
    buffer, writer, rows, preview, latest = io.BytesIO(), None, 0, None, None
    try:
        for day in sorted(days):
            table = pq.read_table(_validated_path(lake, day), columns=columns).replace_schema_metadata(None)
            table = table.sort_by([(d.TIMESTAMP, "ascending"), (d.ENTITY, "ascending")])
            if writer is None:
                writer = pq.ParquetWriter(buffer, table.schema)
                preview = table.slice(0, 5).to_pandas()
            writer.write_table(table.cast(writer.schema))
            rows += table.num_rows
            if table.num_rows:
                latest = table.column(d.TIMESTAMP)[-1]
    finally:
        if writer is not None:
            writer.close()
    atomic.write_bytes(path, buffer.getbuffer())
    return preview, rows, str(pd.Timestamp(latest.as_py())) if latest is not None else "none"


@dg.asset(
    kinds={"parquet", "feast"},
    deps=[dg.AssetDep("validated_events", partition_mapping=dg.AllPartitionMapping())],
    code_version="1",
    freshness_policy=FEATURE_FRESHNESS,
    automation_condition=ALL_DAYS,
)
def customer_feature_table(
    context: dg.AssetExecutionContext, lake: LakeResource, feast: FeastResource
) -> dg.MaterializeResult:
    """Customer snapshots of every accepted day, without labels: the Feast file source.

    Days whose validation was not accepted are left out (and listed), so a broken day never feeds features.
    """
    from pathlib import Path

    days, held_back = accepted_days(lake)
    if not days:
        raise dg.Failure(NO_ACCEPTED_DAY)
    preview, rows, latest = write_snapshots(lake, days, Path(feast.source_path))
    if held_back:
        context.log.warning(f"left out days not accepted by validation: {held_back}")
    metadata = table_metadata(preview, lineage=column_lineage(same_columns(preview.columns, "validated_events")))
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "dagster/row_count": dg.MetadataValue.int(rows),
            "days": len(days),
            "held_back_days": dg.MetadataValue.json(held_back),
            "latest_event": latest,
            "path": dg.MetadataValue.path(feast.source_path),
        }
    )


@dg.asset(
    kinds={"feast"},
    deps=[customer_feature_table],
    code_version=FEATURE_CODE_VERSION,
    automation_condition=FEATURE_CODE,
)
def feature_store_registry(feast: FeastResource) -> dg.MaterializeResult:
    """The Feast repo applied from code: entity, feature views with TTL, on-demand view, feature service.

    The repo folder holds the `feature_store.yaml` the store is built from, so `feast feature-views list`,
    `feast feature-services list` or `feast ui` run there show what this asset applied.
    """
    from mlops_assets.features.feature_definitions import FEATURE_SERVICE, build_repo

    store = feast.store()
    objects = build_repo(feast.source_path, feast.offline_store)
    store.apply(list(objects.values()))
    views = [
        {
            "view": fv.name,
            "kind": type(fv).__name__,
            "features": len(fv.features),
            "names": [f.name for f in fv.features],
        }
        for fv in (*store.list_feature_views(), *store.list_on_demand_feature_views())
    ]
    return dg.MaterializeResult(
        metadata={
            "feature_service": FEATURE_SERVICE,
            "feature_count": sum(v["features"] for v in views),
            "feature_views": records_table(
                views, {"view": "string", "kind": "string", "features": "int", "names": "string"}
            ),
            "online_store": feast.online_store,
            "repo": dg.MetadataValue.path(str(feast.config_path)),
        }
    )


@dg.asset(
    kinds={"feast", "sqlite"},
    deps=[feature_store_registry, customer_feature_table],
    code_version="2",
    freshness_policy=FEATURE_FRESHNESS,
    automation_condition=dg.AutomationCondition.eager(),
)
def online_features(feast: FeastResource) -> dg.MaterializeResult:
    """The latest feature values per customer, materialized to the online store for serving.

    Each customer's latest snapshot within the feature views' TTL (as of the latest snapshot), read and
    written in bounded batches, so the step's time grows with the snapshots and its memory stays flat.
    """
    from mlops_assets.features.online_materialization import materialize_latest

    written = materialize_latest(feast.store(), feast.source_path)
    return dg.MaterializeResult(
        metadata={
            "entities": dg.MetadataValue.int(written.entities),
            "window_start": str(written.start),
            "window_end": str(written.end),
            "online_store": feast.online_store,
        }
    )
