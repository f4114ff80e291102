"""Whether a validated day is accepted, and the verdicts over all the days of a run (no Dagster).

``validate_events`` stores each day's summary beside that day's files and turns the verdicts into its three
blocking checks; keeping the rules here makes them testable without a Dagster run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import pandas as pd

    from mlops_assets.validation.schema import ValidationOutcome


class DaySummary(TypedDict):
    """One day's counts and verdict, as stored in ``validated/<day>.json``."""

    rows_in: int
    validated: int
    quarantined: int
    rejection_rate: float
    table_errors: list[str]
    failures: str
    accepted: bool


def explain(failure_summary: pd.DataFrame, limit: int = 5) -> str:
    """The first ``limit`` failed checks as `column: check failed on n row(s), e.g. ...`, joined by `; `."""
    if failure_summary.empty:
        return ""
    lines = [
        f"{r.column}: {r.check} failed on {r.rows} row(s), e.g. {r.examples}" for r in failure_summary.itertuples()
    ]
    return "; ".join(lines[:limit])


def day_summary(rows_in: int, outcome: ValidationOutcome, max_rejection_rate: float) -> DaySummary:
    """One day's counts and verdict: accepted when its table is as contracted and few enough rows were rejected."""
    return {
        "rows_in": rows_in,
        "validated": len(outcome.valid),
        "quarantined": len(outcome.quarantined),
        "rejection_rate": round(outcome.rejection_rate, 4),
        "table_errors": outcome.table_errors,
        "failures": explain(outcome.failure_summary),
        "accepted": not outcome.table_errors and outcome.rejection_rate <= max_rejection_rate,
    }


def unreconciled_days(days: dict[str, DaySummary]) -> dict[str, DaySummary]:
    """Days whose rows in are not the validated plus the quarantined rows (a row was lost or duplicated)."""
    return {k: v for k, v in days.items() if v["rows_in"] != v["validated"] + v["quarantined"]}


def broken_contracts(days: dict[str, DaySummary]) -> dict[str, list[str]]:
    """Each day's missing or unexpected columns, for the days that have any."""
    return {k: v["table_errors"] for k, v in days.items() if v["table_errors"]}


def contract_description(broken: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}: {', '.join(e)}" for k, e in broken.items()) or "all columns as contracted"


def over_budget(days: dict[str, DaySummary], max_rejection_rate: float) -> dict[str, DaySummary]:
    """Days that quarantined a larger share of their rows than ``max_rejection_rate``."""
    return {k: v for k, v in days.items() if v["rejection_rate"] > max_rejection_rate}


def budget_description(over: dict[str, DaySummary], max_rejection_rate: float) -> str:
    return (
        "; ".join(f"{k}: {v['rejection_rate']:.1%} rejected ({v['failures']})" for k, v in over.items())
        or f"every day within {max_rejection_rate:.0%}"
    )


def worst_rate(days: dict[str, DaySummary]) -> float:
    return max((v["rejection_rate"] for v in days.values()), default=0.0)
