"""Which monitoring findings become retrain requests (pure logic, no Dagster).

A drift event is "the current champion has drifted": every drifted report about champion vN (any day;
data, prediction or concept drift) belongs to the same event, so the episode retrains once however many
days and reports confirm it, and a concept-drift verdict arriving beside the data-drift one does not
train a second challenger. A new champion starts a clean slate: if it drifts too, that is a new event. The sensor
turns each event id into a Dagster ``run_key``, which the instance deduplicates for good, also across
daemon restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_BY_REPORT = {
    "data_drift_report": "data",
    "prediction_drift_report": "prediction",
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
    """One event for the current champion if any finding about it drifted (kinds named in the reason).

    Findings about a champion that has since been replaced are stale: the new champion was trained after
    them, so they do not trigger another retrain.
    """
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        if not finding.drifted or current_champion is None or finding.champion_version != current_champion:
            continue
        grouped.setdefault(f"drift:champion-v{current_champion}", []).append(finding)
    events = []
    for event_id, members in grouped.items():
        kinds = sorted({KIND_BY_REPORT.get(m.report, m.report) for m in members})
        where = sorted({f"{m.report}@{m.partition or 'latest'}" for m in members})
        detail = next((m.detail for m in members if m.detail), "")
        reason = f"{', '.join(kinds)} drift in {', '.join(where)}" + (f": {detail}" if detail else "")
        events.append(RetrainEvent(event_id, reason))
    return events


def bootstrap_event(
    champion: str | None, challenger: str | None, features_stamp: int | None, retrain_active: bool
) -> RetrainEvent | None:
    """The first model's training, once features exist and no model is being trained or decided yet.

    Keyed by the feature table's materialization, so a first training that fails (too few labels, say) is
    tried again when more data has landed, never twice on the same features.
    """
    if champion is not None or challenger is not None or features_stamp is None or retrain_active:
        return None
    return RetrainEvent(f"bootstrap:features-{features_stamp}", "no champion yet: train the first model")
