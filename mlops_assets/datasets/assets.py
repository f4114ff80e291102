"""Datasets: the point-in-time correct training table, built by Feast and versioned by its content."""

import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from mlops_assets.datasets.manifest import DatasetManifest, build_manifest, write_dataset
from mlops_assets.datasets.split_spec import SplitSpec
from mlops_assets.features.assets import accepted_days, read_validated
from mlops_assets.metadata import column_lineage, derived_sources, table_metadata
from resources.feast_store import FeastResource
from resources.record_io_manager import RECORD_IO_MANAGER
from resources.storage import LakeResource

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd


SPLIT_DESCRIPTION = "train / validation (seeded random share) / oot_test (the newest days): the row's split."


def dataset_lineage(columns: "Iterable[str]") -> dict[str, list[tuple[str, str]]]:
    """Where each training column comes from, for `dagster/column_lineage`.

    Features come from the Feast file source (a derived ratio from the columns it is computed of); labels,
    segment and join keys from the validated events; the split from the event time.
    """
    from mlops_assets.core import domain as d
    from mlops_assets.datasets.dataset_split import SPLIT

    features, events = "customer_feature_table", "validated_events"
    derived = derived_sources()
    lineage: dict[str, list[tuple[str, str]]] = {}
    for column in map(str, columns):
        if column in derived:
            lineage[column] = [(features, source) for source in derived[column]]
        elif column in (*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES):
            lineage[column] = [(features, column)]
        elif column in (d.ENTITY, d.TIMESTAMP):
            lineage[column] = [(events, column), (features, column)]
        elif column == SPLIT:
            lineage[column] = [(events, d.TIMESTAMP)]
        else:
            lineage[column] = [(events, column)]
    return lineage


_SPLIT = SplitSpec()


class DatasetConfig(dg.Config):
    """Split and filter settings; all of them are recorded in the dataset manifest.

    The split's defaults are ``SplitSpec``'s (the one place they are set); ``split_spec()`` builds it.
    """

    oot_days: int = Field(default=_SPLIT.oot_days, ge=1, description="the newest days held out as the OOT test")
    validation_fraction: float = Field(default=_SPLIT.validation_fraction, gt=0.0, lt=1.0)
    seed: int = _SPLIT.seed
    min_rows: int = Field(default=1_000, ge=0, description="fewer joined rows than this fail the run")

    def split_spec(self) -> SplitSpec:
        return SplitSpec(oot_days=self.oot_days, validation_fraction=self.validation_fraction, seed=self.seed)


def _without_snapshot(joined: "pd.DataFrame") -> "pd.Series":
    """Rows the join found no snapshot for: every stored feature null (a snapshot has its required ones).

    Feast's file store drops such rows, its DuckDB and Spark stores keep them with null features; this
    tells them apart in both cases, so a missing snapshot fails the dataset whatever the store.
    """
    from mlops_assets.core import domain as d

    return joined[[*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]].isna().all(axis="columns")


def _typed_like(joined: "pd.DataFrame", events: "pd.DataFrame") -> "pd.DataFrame":
    """The joined table in the dtypes of the validated events it was built from, whichever store joined it.

    DuckDB returns microsecond timestamps and widens integer features to float64 (its left join may yield
    nulls), Spark returns naive UTC timestamps; the file store kept the source dtypes. Casting back keeps
    the content hash, hence the dataset version and ``mlops reproduce``, independent of the offline store.
    """
    from mlops_assets.core import domain as d

    if joined[d.TIMESTAMP].dt.tz is None:  # astype refuses naive -> aware
        joined = joined.assign(**{d.TIMESTAMP: joined[d.TIMESTAMP].dt.tz_localize("UTC")})
    return joined.astype({column: events[column].dtype for column in joined.columns if column in events.columns})


def join_dataset(events, as_of, feast: FeastResource, spec, min_rows: int = 0):  # noqa: ANN001, ANN201
    """Labels known at ``as_of``, joined point-in-time to the feature service, canonical and split.

    Shared by ``training_dataset`` and ``mlops reproduce``, so a recorded dataset is rebuilt by the very
    code that built it.
    """
    from mlops_assets.core import domain as d
    from mlops_assets.datasets.dataset_split import SPLIT, assign_splits, canonical
    from mlops_assets.features.feature_definitions import FEATURE_SERVICE, FEATURE_TTL

    labeled = events.loc[events[d.LABEL_TIMESTAMP] <= as_of, [d.ENTITY, d.TIMESTAMP, d.LABEL, d.SEGMENT]]
    if len(labeled) < min_rows:
        raise dg.Failure(
            f"only {len(labeled)} labeled rows known as of {as_of} (min_rows={min_rows}): "
            "ingest more days or wait for labels to arrive"
        )
    store = feast.store()
    joined = store.get_historical_features(
        entity_df=labeled.reset_index(drop=True), features=store.get_feature_service(FEATURE_SERVICE)
    ).to_df()
    missing = len(labeled) - len(joined) + int(_without_snapshot(joined).sum())
    if missing:
        raise dg.Failure(
            f"Feast found no feature snapshot within the TTL ({FEATURE_TTL}) for {missing} of {len(labeled)} "
            "labeled events; refusing to build a silently smaller dataset"
        )
    joined = canonical(_typed_like(joined, events))
    joined[SPLIT] = assign_splits(joined, spec)
    return joined


def _dataset_metadata(joined: "pd.DataFrame", manifest: DatasetManifest) -> dict[str, object]:
    """What the Dagster UI shows of the dataset: its table, lineage, version, split and recipe."""
    from mlops_assets.datasets.dataset_split import SPLIT

    lineage = column_lineage(dataset_lineage(joined.columns))
    return {
        **table_metadata(joined, descriptions={SPLIT: SPLIT_DESCRIPTION}, lineage=lineage),
        "dataset_version": manifest.version,
        "sha256": manifest.sha256,
        "as_of": manifest.as_of,
        "split_ratios": dg.MetadataValue.json(manifest.split_ratios),
        "filters": dg.MetadataValue.json(manifest.filters),
        "transformations": dg.MetadataValue.json(manifest.transformations),
        "label_rate": manifest.label_rate,
    }


@dg.asset(
    kinds={"feast", "parquet"},
    deps=[
        "customer_feature_table",
        "feature_store_registry",
        dg.AssetDep("validated_events", partition_mapping=dg.AllPartitionMapping()),
    ],
    code_version="1",
    io_manager_key=RECORD_IO_MANAGER,
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(days=2)),
)
def training_dataset(
    context: dg.AssetExecutionContext, config: DatasetConfig, lake: LakeResource, feast: FeastResource
) -> dg.MaterializeResult[DatasetManifest]:
    """Labeled events joined point-in-time to the features as they were at each event (no leakage).

    Only labels already known at the newest event time are used (labels arrive days late), rows are split
    train / validation / out-of-time test, and the table is stored under its content hash; its manifest is
    what training takes as input.
    """
    from mlops_assets.core import domain as d

    days, _ = accepted_days(lake)
    events = read_validated(lake, days)
    as_of = events[d.TIMESTAMP].max()
    spec = config.split_spec()
    joined = join_dataset(events, as_of, feast, spec, min_rows=config.min_rows)
    manifest = build_manifest(joined, days, as_of, spec)
    write_dataset(lake, joined, manifest)
    context.log.info(f"training dataset {manifest.version}: {manifest.rows} rows, splits {manifest.split_counts}")
    return dg.MaterializeResult(
        value=manifest, data_version=dg.DataVersion(manifest.version), metadata=_dataset_metadata(joined, manifest)
    )
