"""Which monitoring findings become retrain requests (pure logic, no Dagster).

A drift event is "the current champion has drifted": every drifted report about champion vN (any day,
data or prediction drift) belongs to the same event, so the episode retrains once however many days and
reports confirm it. A new champion starts a clean slate: if it drifts too, that is a new event. The sensor
turns each event id into a Dagster ``run_key``, which the instance deduplicates for good, also across
daemon restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_BY_REPORT = {
    "data_drift_report": "drift",
    "prediction_drift_report": "drift",
    "concept_drift_report": "concept",
}


@dataclass(frozen=True)
class Finding:
    """One materialized monitoring report as the sensor reads it."""

    report: str
    partition: str | None
    drifted: bool
    champion_version: str
    detail: str = ""


@dataclass(frozen=True)
class RetrainEvent:
    """One retrain to request: ``event_id`` becomes the run key."""

    event_id: str
    reason: str


def retrain_events(findings: list[Finding], current_champion: str | None) -> list[RetrainEvent]:
    """One event per (kind of drift, current champion) among the drifted findings, in order of discovery.

    Findings about a champion that has since been replaced are stale: the new champion was trained after
    them, so they do not trigger another retrain.
    """
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        if not finding.drifted or current_champion is None or finding.champion_version != current_champion:
            continue
        kind = KIND_BY_REPORT.get(finding.report, finding.report)
        grouped.setdefault(f"{kind}:champion-v{current_champion}", []).append(finding)
    events = []
    for event_id, members in grouped.items():
        where = sorted({f"{m.report}@{m.partition or 'latest'}" for m in members})
        detail = next((m.detail for m in members if m.detail), "")
        events.append(RetrainEvent(event_id, f"{', '.join(where)}" + (f": {detail}" if detail else "")))
    return events
