"""What a drift comparison returns: per-column results, untestable columns and the dataset verdict.

Plain records with their JSON and Markdown renderings (NaN and +-inf become null, so the JSON is standard);
the statistics that fill them live in ``drift`` and ``drift_profile``. No Dagster here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from mlops_assets.monitoring.drift import EPSILON


@dataclass(kw_only=True)
class ColumnFacts:
    """What every compared column reports, whether a test could run on it or not.

    ``rows_*`` count the values tested (finite numbers, non-missing categories); ``nonfinite_*`` the +-inf
    left out of a numeric column; ``unseen_share`` the share of current rows whose category the reference
    never saw.
    """

    column: str
    kind: str
    rows_reference: int
    rows_current: int
    nonfinite_reference: int | None = None
    nonfinite_current: int | None = None
    unseen_share: float | None = None


@dataclass(kw_only=True)
class ColumnDrift(ColumnFacts):
    """One column's verdict with every number behind it.

    ``unseen_share_expected`` is the unseen share a window from the reference's own distribution would show
    (Good-Turing: the reference rows whose category occurs once).
    """

    test: str
    statistic: float
    p_value: float
    effect_size: float
    effect_size_name: str
    threshold: float
    p_value_adjusted: float = math.nan
    """``p_value`` after the Benjamini-Hochberg correction over every tested column (set by the report)."""
    drifted: bool = False
    psi: float | None = None
    unseen_share_expected: float | None = None


@dataclass(kw_only=True)
class UntestableColumn(ColumnFacts):
    """A column no test could be run on, and why: neither drifted nor "not drifted"."""

    reason: str


def _json_safe(value: object) -> object:
    """NaN and +-inf become null: the report is read by strict JSON parsers, not only by Python."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


@dataclass
class DriftReport:
    """The dataset verdict, its tested columns and the columns that could not be tested."""

    columns: list[ColumnDrift]
    alpha: float
    untestable: list[UntestableColumn] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return any(c.drifted for c in self.columns)

    @property
    def share_drifted(self) -> float:
        return sum(c.drifted for c in self.columns) / len(self.columns) if self.columns else 0.0

    def to_dict(self) -> dict:
        return _json_safe(
            {
                "dataset": {
                    "drifted": self.drifted,
                    "share_drifted": round(self.share_drifted, 4),
                    "drifted_columns": [c.column for c in self.columns if c.drifted],
                    "untestable_columns": [c.column for c in self.untestable],
                    "alpha": self.alpha,
                    "correction": "benjamini-hochberg",
                    "columns_tested": len(self.columns),
                },
                "columns": [asdict(c) for c in self.columns],
                "untestable": [asdict(c) for c in self.untestable],
            }
        )

    def to_markdown(self) -> str:
        verdict = "DRIFT" if self.drifted else "no drift"
        lines = [
            f"**{verdict}**: {sum(c.drifted for c in self.columns)} of {len(self.columns)} columns drifted "
            f"(alpha {self.alpha}, Benjamini-Hochberg)"
            + (f"; **{len(self.untestable)} not tested**" if self.untestable else ""),
            "",
            "| column | kind | test | statistic | p (adj.) | effect size | threshold | drifted | notes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in sorted(self.columns, key=lambda c: (not c.drifted, -c.effect_size / max(c.threshold, EPSILON))):
            lines.append(
                f"| {c.column} | {c.kind} | {c.test} | {c.statistic:.4f} | {c.p_value_adjusted:.3g} | "
                f"{c.effect_size:.4f} ({c.effect_size_name}) | {c.threshold:.4f} | {'yes' if c.drifted else ''} | "
                f"{_notes(c)} |"
            )
        if self.untestable:
            lines += ["", "| not tested | kind | reason |", "|---|---|---|"]
            lines += [f"| {c.column} | {c.kind} | {c.reason} |" for c in self.untestable]
        return "\n".join(lines)


def _notes(c: ColumnDrift) -> str:
    notes = []
    if c.nonfinite_reference or c.nonfinite_current:
        notes.append(f"+-inf left out: {c.nonfinite_reference} reference, {c.nonfinite_current} current")
    if c.unseen_share:
        notes.append(f"unseen categories {c.unseen_share:.1%} (reference's own rate {c.unseen_share_expected:.1%})")
    return "; ".join(notes)
