"""The loop's timeline from the Dagster instance: which event launched which run, and what came of it.

Read from run tags (who launched a run and why) and each run's events (what it materialized, which checks
failed, what the deployment decided), so it shows what Dagster did, not what a script believes it did.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from mlops_assets.run_tags import REASON_TAG, TRIGGER_TAG

SENSOR_TAG = "dagster/sensor_name"
AUTOMATION_TAG = "dagster/from_automation_condition"


@dataclass(frozen=True)
class TimelineRow:
    """One run: when, which job, who launched it and why, and its outcome."""

    started: dt.datetime
    seconds: float
    job: str
    launched_by: str
    trigger: str
    status: str
    outcome: str
    assets: tuple[str, ...] = ()
    partitions: tuple[str, ...] = ()
    runs: int = 1

    def render(self) -> str:
        job = f"{self.runs} x {self.job}" if self.runs > 1 else self.job
        return (
            f"{self.started:%H:%M:%S} {self.seconds:6.1f}s  {job:<15} {self.launched_by:<18} "
            f"{self.trigger[:34]:<34} {self.status:<8} {self.outcome}"
        )


def _kind(row: TimelineRow) -> tuple:
    return row.job, row.launched_by, row.status, row.assets


def collapse(rows: list[TimelineRow]) -> list[TimelineRow]:
    """Fold consecutive runs that did the same thing to different days into one row.

    A history's per-day validation runs become one line, so the timeline reads as events, not a run list.
    """
    folded: list[TimelineRow] = []
    for row in rows:
        last = folded[-1] if folded else None
        same = (
            last is not None
            and row.partitions
            and last.partitions
            and _kind(last) == _kind(row)
            and "check" not in row.outcome + last.outcome
        )
        if not same:
            folded.append(row)
            continue
        days = sorted({*last.partitions, *row.partitions})
        folded[-1] = TimelineRow(
            started=last.started,
            seconds=last.seconds + row.seconds,
            job=last.job,
            launched_by=last.launched_by,
            trigger=last.trigger,
            status=last.status,
            outcome=f"{', '.join(last.assets)} for {len(days)} days {days[0]}..{days[-1]}",
            assets=last.assets,
            partitions=tuple(days),
            runs=last.runs + 1,
        )
    return folded


def launched_by(tags: dict[str, str]) -> str:
    """``sensor:<name>``, ``automation``, ``retry`` or ``manual``, from the run's tags."""
    if tags.get("dagster/parent_run_id"):
        return "retry"
    if tags.get(AUTOMATION_TAG) == "true" or tags.get(SENSOR_TAG) == "automation":
        return "automation"
    if tags.get(SENSOR_TAG):
        return f"sensor:{tags[SENSOR_TAG]}"
    if tags.get("dagster/schedule_name"):
        return f"schedule:{tags['dagster/schedule_name']}"
    return "manual"


def _outcome(instance: dg.DagsterInstance, run_id: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """What the run did, as (one line, asset names, partitions)."""
    materialized: list[str] = []
    assets: set[str] = set()
    partitions: set[str] = set()
    notes: list[str] = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        if materialization is None:
            continue
        name = materialization.asset_key.to_user_string()
        assets.add(name)
        if materialization.partition:
            partitions.add(materialization.partition)
        materialized.append(f"{name}[{materialization.partition}]" if materialization.partition else name)
        if name == "production_deployment" and "decision" in materialization.metadata:
            notes.append(str(materialization.metadata["decision"].value))
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if evaluation is not None and not evaluation.passed:
            notes.append(f"check {evaluation.check_name} failed: {evaluation.description or ''}"[:140])
    shown = ", ".join(sorted(set(materialized))[:4]) + (" ..." if len(set(materialized)) > 4 else "")
    return "; ".join([*notes, shown] if shown else notes), tuple(sorted(assets)), tuple(sorted(partitions))


def run_timeline(instance: dg.DagsterInstance, since: dt.datetime | None = None) -> list[TimelineRow]:
    """Every run created after ``since``, oldest first."""
    records = instance.get_run_records(dg.RunsFilter(created_after=since), ascending=True, order_by="create_timestamp")
    rows = []
    for record in records:
        run = record.dagster_run
        start, end = record.start_time or record.create_timestamp.timestamp(), record.end_time
        outcome, assets, partitions = _outcome(instance, run.run_id)
        rows.append(
            TimelineRow(
                started=dt.datetime.fromtimestamp(start, dt.UTC),
                seconds=(end - start) if end else 0.0,
                job=run.job_name,
                launched_by=launched_by(dict(run.tags)),
                trigger=run.tags.get(TRIGGER_TAG, run.tags.get(REASON_TAG, "")),
                status=run.status.value,
                outcome=outcome,
                assets=assets,
                partitions=partitions,
            )
        )
    return rows
