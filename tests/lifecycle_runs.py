"""Materializing the lifecycle in-process, for tests and benchmarks that need a state quickly.

The product never does this: under the daemon the landing sensor, the automation conditions and the
drift and canary sensors launch every run. Tests that check one stage build the state before it here:
days are added as partitions and ingested in one run (the backfill policy is single-run), then
everything downstream in a second run, recorded in the given ``DagsterInstance``.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from mlops_assets.ingestion.assets import IngestionConfig
from mlops_assets.partitions import DAYS, RANGE_END, RANGE_START
from mlops_assets.registry.assets import PromotionConfig

PARTITIONED_GROUPS = ("ingestion", "validation")
DAILY_REPORTS = ("data_drift_report", "prediction_drift_report", "feature_quality_report")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _with_logging(run_config: dg.RunConfig | dict[str, Any] | None, quiet: bool) -> dict[str, Any] | None:
    if isinstance(run_config, dg.RunConfig):
        run_config = run_config.to_config_dict()
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
    """Ingest (from the generator, unless ``ingestion`` says otherwise) and validate ``first_day``..``last_day``."""
    import datetime as dt

    first, last = dt.date.fromisoformat(first_day), dt.date.fromisoformat(last_day)
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    instance.add_dynamic_partitions(DAYS.name, [d for d in days if not instance.has_dynamic_partition(DAYS.name, d)])
    run_config = dg.RunConfig(ops={"raw_churn_events": IngestionConfig(**{"source": "generator", **(ingestion or {})})})
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
    run_config: dg.RunConfig | dict[str, Any] | None = None,
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
    if not instance.has_dynamic_partition(DAYS.name, day):
        instance.add_dynamic_partitions(DAYS.name, [day])
    return dg.materialize(
        list(defs.assets or []),
        selection=dg.AssetSelection.assets(*DAILY_REPORTS),
        instance=instance,
        resources=defs.resources,
        partition_key=day,
        run_config=_with_logging(None, quiet),
    )


def auto_approval(approver: str = "mlops demo (automatic approval)") -> dg.RunConfig:
    """Run config that approves the promotion automatically and says so in the registry."""
    return dg.RunConfig(ops={"champion_model": PromotionConfig(approved_by=approver, automatic_approval=True)})
