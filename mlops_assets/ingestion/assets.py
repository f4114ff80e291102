"""Ingestion: one partition per landed day of raw churn events.

The default source is the landing folder (``<data>/landing/<day>/``), which the landing sensor watches: it
adds the day's partition and launches the ``ingest`` job for it. ``generator`` and ``folder`` read the
seeded generator or a user's export folder directly, for a run launched by hand from the Launchpad.
"""

from typing import Literal

import dagster as dg
from pydantic import Field, field_validator

from mlops_assets.ingestion.scenarios import Scenario
from mlops_assets.metadata import table_metadata
from mlops_assets.partitions import DAYS, day_window
from resources.landing import LandingResource
from resources.storage import LakeResource


class IngestionConfig(dg.Config):
    """Where a day's events come from, and (for the generator) which drift scenario to inject."""

    source: Literal["landing", "generator", "folder"] = "landing"
    scenario: str = Field(default=Scenario.NONE.value, description=f"one of {[s.value for s in Scenario]}")
    intensity: float = 1.0
    rows_per_day: int = Field(default=1_500, ge=0)
    population: int = Field(default=20_000, ge=1)
    """Customers the generator samples each day's rows from (distinct per day): at least ``rows_per_day``."""
    seed: int = 7
    label_delay_days: int = 3
    folder: str = ""
    column_mapping: dict[str, str] = {}

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str) -> str:
        """The scenarios are ``Scenario``'s values, listed once there."""
        return Scenario(value).value


@dg.asset(
    kinds={"python", "parquet"},
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    code_version="2",
)
def raw_churn_events(
    context: dg.AssetExecutionContext, config: IngestionConfig, lake: LakeResource, landing: LandingResource
) -> dg.MaterializeResult:
    """Raw customer snapshots, one parquet file per day, exactly as the source delivered them.

    Nothing is cleaned here: bad rows must reach validation so they can be quarantined with a reason.
    Each day's materialization carries that day's own row count, schema and preview, also when one run
    ingests many days.
    """
    from mlops_assets.ingestion.folder_source import read_folder
    from mlops_assets.ingestion.generator import Scenario, generate_day

    total = 0
    for key in context.partition_keys:
        window = day_window(key)
        if config.source == "landing":
            frame = read_folder(landing.folder(key), window, config.column_mapping, config.label_delay_days)
        elif config.source == "folder":
            frame = read_folder(config.folder, window, config.column_mapping, config.label_delay_days)
        else:
            frame = generate_day(
                window[0].date(),
                seed=config.seed,
                rows=config.rows_per_day,
                scenario=Scenario(config.scenario),
                label_delay_days=config.label_delay_days,
                intensity=config.intensity,
                population=config.population,
            )
        lake.write_parquet(frame, "raw", f"{key}.parquet")
        lake.write_json(
            {"source": config.source, "scenario": config.scenario, "rows": len(frame)}, "raw", f"{key}.json"
        )
        # partition-scoped: Dagster writes one materialization per day, each with its own numbers
        context.add_asset_metadata(table_metadata(frame), partition_key=key)
        total += len(frame)
    context.log.info(f"wrote {total} raw rows in {len(context.partition_keys)} partition(s)")
    return dg.MaterializeResult(metadata={"source": config.source, "scenario": config.scenario})
