"""Completed evaluations of an asset check, read from the instance (planned and running ones are skipped).

The drift sensors act on them and the demo and ``mlops status`` report them; one reader keeps their idea
of "a verdict" the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

DONE = ("SUCCEEDED", "FAILED")


@dataclass(frozen=True)
class CheckVerdict:
    """One evaluation: its id (increasing), whether it passed, its partition and metadata values."""

    id: int
    passed: bool
    partition: str | None
    metadata: dict[str, Any]
    description: str


def completed_evaluations(
    instance: dg.DagsterInstance, key: dg.AssetCheckKey, after_id: int = 0, limit: int = 200
) -> list[CheckVerdict]:
    """The newest ``limit`` completed evaluations of ``key`` with an id above ``after_id``, oldest first."""
    verdicts = []
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=limit):
        if record.id <= after_id or record.status.value not in DONE or record.event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        verdicts.append(
            CheckVerdict(
                id=record.id,
                passed=bool(evaluation.passed),
                partition=record.partition,
                metadata={k: v.value for k, v in evaluation.metadata.items()},
                description=evaluation.description or "",
            )
        )
    return sorted(verdicts, key=lambda v: v.id)
