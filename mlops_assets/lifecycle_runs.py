"""Launching the lifecycle from Python (the demo, the CLI and the tests use these).

Daily assets are materialized for a whole range of days in one run (their backfill policy is single-run),
then everything downstream in a second run, exactly as a backfill followed by a downstream launch in the
UI would do, recorded in the given ``DagsterInstance`` so the UI shows the runs afterwards.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

PARTITIONED_GROUPS = ("ingestion", "validation")
DAILY_REPORTS = ("data_drift_report", "prediction_drift_report", "feature_quality_report")
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _with_logging(run_config: dict[str, Any] | None, quiet: bool) -> dict[str, Any] | None:
    if not quiet:
        return run_config
    return {**(run_config or {}), **QUIET}


def ingest_days(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    first_day: str,
    last_day: str,
    ingestion: dict[str, Any] | None = None,
    raise_on_error: bool = True,
    quiet: bool = False,
) -> dg.ExecuteInProcessResult:
    """Ingest and validate the days ``first_day``..``last_day`` (inclusive, ISO dates) in one run."""
    run_config = {"ops": {"raw_churn_events": {"config": ingestion}}} if ingestion else None
    return dg.materialize(
        list(defs.assets or []),
        selection=dg.AssetSelection.groups(*PARTITIONED_GROUPS),
        instance=instance,
        resources=defs.resources,
        run_config=_with_logging(run_config, quiet),
        tags={RANGE_START: first_day, RANGE_END: last_day},
        raise_on_error=raise_on_error,
    )


def build_downstream(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    run_config: dict[str, Any] | None = None,
    selection: dg.AssetSelection | None = None,
    raise_on_error: bool = True,
    quiet: bool = False,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize everything after validation (features through the champion) in one run."""
    chosen = selection or (
        dg.AssetSelection.all()
        - dg.AssetSelection.groups(*PARTITIONED_GROUPS)
        - dg.AssetSelection.assets(*DAILY_REPORTS)
    )
    return dg.materialize(
        list(defs.assets or []),
        selection=chosen,
        instance=instance,
        resources=defs.resources,
        run_config=_with_logging(run_config, quiet),
        raise_on_error=raise_on_error,
        tags=tags,
    )


def monitor_day(
    defs: dg.Definitions, instance: dg.DagsterInstance, day: str, quiet: bool = False
) -> dg.ExecuteInProcessResult:
    """Materialize the daily drift and quality reports of ``day`` (against the current champion)."""
    return dg.materialize(
        list(defs.assets or []),
        selection=dg.AssetSelection.assets(*DAILY_REPORTS),
        instance=instance,
        resources=defs.resources,
        partition_key=day,
        run_config=_with_logging(None, quiet),
    )


def auto_approval(approver: str = "mlops demo (automatic approval)") -> dict[str, Any]:
    """Run config that approves the promotion automatically and says so in the registry."""
    return {"ops": {"champion_model": {"config": {"approved_by": approver, "automatic_approval": True}}}}
