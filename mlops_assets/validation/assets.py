"""Validation: the pandera contract splits each day into validated rows and quarantined rows.

Blocking asset checks stop the features from being built in the same run when a day breaks the table
contract or rejects more rows than the budget allows; the quarantine keeps every rejected row with the
checks it failed, so nothing is lost and a person can see exactly what was wrong.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg

from mlops_assets.metadata import column_lineage, same_columns, sig, table_metadata
from mlops_assets.partitions import DAYS, day_window
from mlops_assets.validation import day_verdicts
from mlops_assets.validation.day_verdicts import DaySummary
from resources.storage import LakeResource

if TYPE_CHECKING:
    import pandas as pd

    from mlops_assets.validation.schema import ValidationOutcome

VALIDATED = dg.AssetKey("validated_events")
QUARANTINED = dg.AssetKey("quarantined_events")
FOLLOWS_RAW = dg.AutomationCondition.eager()
"""Each landed day is validated as soon as its raw partition is written (per partition, every day)."""


class ValidationConfig(dg.Config):
    """`max_rejection_rate`: the share of quarantined rows above which a day is not accepted."""

    max_rejection_rate: float = 0.05


def _record_day(
    context: dg.AssetExecutionContext,
    day: str,
    raw: "pd.DataFrame",
    outcome: "ValidationOutcome",
    summary: DaySummary,
) -> None:
    """Attach one day's verdict, counts, schema and lineage to that day's two materializations."""
    from mlops_assets.validation.schema import REASONS

    verdict = {
        "accepted": dg.MetadataValue.bool(summary["accepted"]),
        "rows_in": dg.MetadataValue.int(len(raw)),
        "quarantined": dg.MetadataValue.int(len(outcome.quarantined)),
        "rejection_rate": dg.MetadataValue.float(sig(outcome.rejection_rate) or 0.0),
    }
    if outcome.table_errors or summary["failures"]:
        verdict["failures"] = dg.MetadataValue.text("; ".join(outcome.table_errors) or str(summary["failures"]))
    raw_columns = [str(c) for c in raw.columns]
    from_raw = same_columns((c for c in outcome.valid.columns if c in raw_columns), "raw_churn_events")
    context.add_asset_metadata(
        {**verdict, **table_metadata(outcome.valid, lineage=column_lineage(from_raw))},
        asset_key=VALIDATED,
        partition_key=day,
    )
    quarantine_lineage = {
        **same_columns((c for c in outcome.quarantined.columns if c in raw_columns), "raw_churn_events"),
        REASONS: [("raw_churn_events", c) for c in raw_columns],
    }
    reasons = {REASONS: "The contract checks the row failed, each as `column: check (got value)`."}
    context.add_asset_metadata(
        table_metadata(outcome.quarantined, descriptions=reasons, lineage=column_lineage(quarantine_lineage)),
        asset_key=QUARANTINED,
        partition_key=day,
    )


def _output_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """Both outputs are written from the same raw day, by the same code, whenever that day lands."""
    return dg.AssetSpec(
        key,
        deps=["raw_churn_events"],
        kinds={"pandera", "parquet"},
        description=description,
        code_version="1",
        automation_condition=FOLLOWS_RAW,
    )


def _checks(days: dict[str, DaySummary], max_rejection_rate: float) -> Iterator[dg.AssetCheckResult]:
    """The run's three blocking checks over every day it validated."""
    unreconciled = day_verdicts.unreconciled_days(days)
    yield dg.AssetCheckResult(
        check_name="counts_reconcile",
        asset_key=VALIDATED,
        passed=not unreconciled,
        metadata={"unreconciled_days": dg.MetadataValue.json(unreconciled)},
    )
    broken = day_verdicts.broken_contracts(days)
    yield dg.AssetCheckResult(
        check_name="table_contract",
        asset_key=VALIDATED,
        passed=not broken,
        severity=dg.AssetCheckSeverity.ERROR,
        description=day_verdicts.contract_description(broken),
        metadata={"table_errors": dg.MetadataValue.json(broken)},
    )
    over = day_verdicts.over_budget(days, max_rejection_rate)
    yield dg.AssetCheckResult(
        check_name="rejection_rate_within_budget",
        asset_key=VALIDATED,
        passed=not over,
        description=day_verdicts.budget_description(over, max_rejection_rate),
        metadata={"max_rejection_rate": max_rejection_rate, "worst_rate": day_verdicts.worst_rate(days)},
    )


@dg.multi_asset(
    specs=[
        _output_spec(VALIDATED, "Rows that satisfy the pandera contract, typed; one parquet file per day."),
        _output_spec(
            QUARANTINED, "Rejected rows, kept as text with the checks each failed (column `rejection_reasons`)."
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "counts_reconcile",
            asset=VALIDATED,
            blocking=True,
            description="Rows in = validated rows + quarantined rows, for every day.",
        ),
        dg.AssetCheckSpec(
            "table_contract", asset=VALIDATED, blocking=True, description="No missing or unexpected columns."
        ),
        dg.AssetCheckSpec(
            "rejection_rate_within_budget",
            asset=VALIDATED,
            blocking=True,
            description="The quarantined share of each day is within `max_rejection_rate`.",
        ),
    ],
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def validate_events(
    context: dg.AssetExecutionContext, config: ValidationConfig, lake: LakeResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Validate every day of the run against the raw-event contract.

    Each day's materializations carry that day's own counts, rejection rate and verdict, also when one run
    validates many days.
    """
    from mlops_assets.validation.schema import build_schema, split_valid  # pandera is slow to import

    days: dict[str, DaySummary] = {}
    for key in context.partition_keys:
        raw = lake.read_parquet("raw", f"{key}.parquet")
        outcome = split_valid(raw, build_schema(day_window(key)))
        summary = day_verdicts.day_summary(len(raw), outcome, config.max_rejection_rate)
        lake.write_parquet(outcome.valid, "validated", f"{key}.parquet")
        lake.write_parquet(outcome.quarantined, "quarantine", f"{key}.parquet")
        lake.write_json(summary, "validated", f"{key}.json")
        days[key] = summary
        if not summary["accepted"]:
            context.log.warning(f"{key} not accepted: {outcome.table_errors or summary['failures']}")
        _record_day(context, key, raw, outcome, summary)

    yield dg.MaterializeResult(asset_key=VALIDATED)
    yield dg.MaterializeResult(asset_key=QUARANTINED)
    yield from _checks(days, config.max_rejection_rate)
