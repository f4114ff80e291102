"""What the Dagster UI tells: described columns, column lineage, per-day row counts, verdicts first."""

from __future__ import annotations

import re

import dagster as dg
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from tests.lifecycle_runs import build_downstream, ingest_days, monitor_day
from tests.lifecycle_state import LAST_DAY, Lifecycle

TABLES = ("raw_churn_events", "validated_events", "quarantined_events", "customer_feature_table", "training_dataset")
STAGE_ASSETS = (*TABLES, "feature_store_registry", "online_features", "data_drift_report", "prediction_drift_report")
DAYS = ("2026-02-01", "2026-02-02", "2026-02-03")


def upstream(lifecycle: Lifecycle, asset: str, column: str) -> set[tuple[str, str]]:
    """The (asset, column) pairs ``asset.column`` is derived from, as its `dagster/column_lineage` says."""
    lineage = lifecycle.metadata(asset)["dagster/column_lineage"]
    return {(dep.asset_key.to_user_string(), dep.column_name) for dep in lineage.deps_by_column.get(column, [])}


@pytest.mark.slow
@pytest.mark.parametrize("asset", TABLES)
def test_every_column_of_every_table_schema_is_described(lifecycle: Lifecycle, asset: str):
    schema = lifecycle.metadata(asset)["dagster/column_schema"]

    undescribed = [c.name for c in schema.columns if not c.description]

    assert schema.columns and undescribed == []


@pytest.mark.slow
def test_column_descriptions_are_the_domain_ones(lifecycle: Lifecycle):
    schema = lifecycle.metadata("training_dataset")["dagster/column_schema"]
    described = {c.name: c.description for c in schema.columns}

    assert described["monthly_charges"] == next(c.description for c in d.NUMERIC if c.name == "monthly_charges")
    assert described["tickets_per_session"] == d.DERIVED_DESCRIPTIONS["tickets_per_session"]


@pytest.mark.slow
def test_a_derived_training_column_leads_back_through_features_and_validation_to_raw_columns(lifecycle: Lifecycle):
    ratio = upstream(lifecycle, "training_dataset", "charges_per_tenure_month")
    assert ratio == {("customer_feature_table", "total_charges"), ("customer_feature_table", "tenure_months")}

    for _, column in ratio:
        assert upstream(lifecycle, "customer_feature_table", column) == {("validated_events", column)}
        assert upstream(lifecycle, "validated_events", column) == {("raw_churn_events", column)}


@pytest.mark.slow
def test_features_labels_and_keys_of_the_training_dataset_each_name_their_source(lifecycle: Lifecycle):
    assert upstream(lifecycle, "training_dataset", "plan") == {("customer_feature_table", "plan")}
    assert upstream(lifecycle, "training_dataset", d.LABEL) == {("validated_events", d.LABEL)}
    assert ("validated_events", d.ENTITY) in upstream(lifecycle, "training_dataset", d.ENTITY)
    lineage = lifecycle.metadata("training_dataset")["dagster/column_lineage"]
    schema = lifecycle.metadata("training_dataset")["dagster/column_schema"]
    assert set(lineage.deps_by_column) == {c.name for c in schema.columns}


def test_each_day_of_a_multi_day_ingest_records_its_own_row_count(defs: dg.Definitions, instance: dg.DagsterInstance):
    result = ingest_days(defs, instance, DAYS[0], DAYS[-1], {"rows_per_day": 300}, quiet=True)
    assert result.success
    lake = defs.resources["lake"]

    for asset, folder in (("raw_churn_events", "raw"), ("validated_events", "validated")):
        for day in DAYS:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day]), limit=10
            ).records
            assert len(records) == 1, f"{asset} {day}: {len(records)} materializations"
            metadata = records[0].asset_materialization.metadata
            assert metadata["dagster/row_count"].value == len(lake.read_parquet(folder, f"{day}.parquet")) == 300


def test_asset_descriptions_are_markdown_without_rest_double_backticks(defs: dg.Definitions):
    specs = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}

    raw_rest = [key for key in STAGE_ASSETS if "``" in (specs[key].description or "")]

    assert raw_rest == []


@pytest.fixture(scope="module")
def daily_reports(lifecycle: Lifecycle) -> dict[str, dict[str, dg.MetadataValue]]:
    """The three daily reports of the lifecycle's last day, against its champion's reference profile."""
    profile = dg.AssetSelection.assets("reference_profile")
    build_downstream(lifecycle.defs, lifecycle.instance, selection=profile, quiet=True)
    result = monitor_day(lifecycle.defs, lifecycle.instance, LAST_DAY, quiet=True)
    return {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}


def decimals(text: str) -> list[str]:
    """The decimal numbers of a headline, without its inline image and its dates."""
    text = re.sub(r"!\[[^\]]*\]\(data:[^)]*\)", "", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "", text)
    return re.findall(r"\d+\.\d+(?:e[-+]?\d+)?", text)


def significant_digits(number: str) -> int:
    mantissa = number.split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


@pytest.mark.slow
@pytest.mark.parametrize("report", ["data_drift_report", "prediction_drift_report"])
def test_a_drift_report_leads_with_a_headline_verdict_in_four_significant_digits(daily_reports, report: str):
    metadata = daily_reports[report]
    (first_key, summary), (second_key, headline) = list(metadata.items())[:2]

    assert first_key == "summary" and isinstance(summary, dg.TextMetadataValue)
    assert re.match(rf"(Drift|No drift) on {LAST_DAY} against champion v\d+", summary.value), summary.value
    assert second_key == "verdict" and isinstance(headline, dg.MarkdownMetadataValue)
    assert re.match(rf"\*\*(Drift|No drift)\*\* on {LAST_DAY} against champion v\d+", headline.value)
    assert "![Effect size vs calibrated threshold](data:image/png;base64," in headline.value
    numbers = decimals(headline.value)
    assert numbers and all(significant_digits(n) <= 4 for n in numbers), numbers


@pytest.mark.slow
def test_drift_report_details_are_tables_with_rounded_numbers_not_json(daily_reports):
    metadata = daily_reports["data_drift_report"]

    assert not [k for k, v in metadata.items() if isinstance(v, dg.JsonMetadataValue)]
    columns, segments = metadata["columns"].value, metadata["segments"].value
    assert {r.data["column"] for r in columns.records} == {*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES}
    floats = [v for r in columns.records for v in r.data.values() if isinstance(v, float)]
    assert floats and all(significant_digits(f"{v:.15g}".lstrip("-")) <= 4 for v in floats)
    assert all(not pd.isna(r.data["segment"]) for r in segments.records)


@pytest.mark.slow
def test_the_quality_report_leads_with_its_verdict_and_lists_columns_in_a_table(daily_reports):
    metadata = daily_reports["feature_quality_report"]
    (first_key, summary), (second_key, headline) = list(metadata.items())[:2]

    assert first_key == "summary" and re.match(r"(Degraded|Within limits): raw day", summary.value)
    assert second_key == "verdict" and re.match(r"\*\*(Degraded|Within limits)\*\*", headline.value)
    assert isinstance(metadata["columns"], dg.TableMetadataValue)
    assert not [k for k, v in metadata.items() if isinstance(v, dg.JsonMetadataValue)]
