"""The champion's concept-drift verdict on labels that arrived after its training (no Dagster).

``concept_drift_report`` reads the rows and the champion; this module chooses which rows count as new
evidence and turns the two detectors of ``concept_drift`` into the report that is stored and the verdict
its check shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_assets.core import domain as d
from mlops_assets.monitoring.concept_drift import PerformanceDrop, log_loss_per_row, page_hinkley, performance_drop

MIN_LABELLED_ROWS = 200
"""Fewer new labelled rows than this is "not enough evidence yet", never a verdict either way."""


def labelled_since(events: pd.DataFrame, trained_as_of: pd.Timestamp) -> pd.DataFrame:
    """Rows after the champion's training cut-off whose label had arrived by the newest event, in time order."""
    now = events[d.TIMESTAMP].max()
    fresh = events[(events[d.TIMESTAMP] > trained_as_of) & (events[d.LABEL_TIMESTAMP] <= now)]
    return fresh.sort_values(d.TIMESTAMP)


@dataclass(frozen=True)
class ConceptVerdict:
    """What the report says about champion ``version``; without ``drop`` there was not enough evidence."""

    version: str
    rows: int
    drop: PerformanceDrop | None = None
    page_hinkley_index: int | None = None
    page_hinkley_at: str | None = None

    @property
    def reason(self) -> str:
        return f"only {self.rows} new labelled rows"

    @property
    def drifted(self) -> bool:
        return self.drop is not None and self.drop.drifted

    def summary(self) -> dict[str, object]:
        return {"champion_version": self.version, "labelled_rows_since_training": self.rows}

    def payload(self) -> dict[str, object]:
        """The stored report (``monitoring/concept_drift/latest.json``)."""
        if self.drop is None:
            return {"dataset": {"drifted": False}, "reason": self.reason, **self.summary()}
        return {
            "dataset": {"drifted": self.drop.drifted},
            **self.drop.to_dict(),
            "page_hinkley_index": self.page_hinkley_index,
            "page_hinkley_at": self.page_hinkley_at,
        }

    def description(self) -> str:
        """The check's one line: the error on new labels against the test set's, or why there is no verdict."""
        if self.drop is None:
            return f"not enough evidence yet: {self.reason}"
        return (
            f"champion v{self.version}: error {self.drop.current_error:.4f} on new labels vs "
            f"{self.drop.reference_error:.4f} on its test set (p {self.drop.p_value:.2g})"
        )

    def checked(self) -> dict[str, object]:
        """The check's metadata."""
        if self.drop is None:
            return {"champion_version": str(self.version)}
        return {"champion_version": str(self.version), "p_value": float(self.drop.p_value)}


def concept_verdict(
    version: str,
    reference: pd.DataFrame,
    fresh: pd.DataFrame,
    score: Callable[[np.ndarray], np.ndarray],
    alpha: float,
) -> ConceptVerdict:
    """Batch test of ``fresh`` against the champion's ``reference`` (its test set) and Page-Hinkley over time.

    ``score`` gives the champion's probabilities for encoded rows (``domain.encode``); ``fresh`` is in time
    order (``labelled_since``).
    """
    current = (fresh[d.LABEL].to_numpy(), score(d.encode(fresh)))
    drop = performance_drop((reference[d.LABEL].to_numpy(), score(d.encode(reference))), current, alpha=alpha)
    fired = page_hinkley(log_loss_per_row(*current))
    fired_at = str(fresh[d.TIMESTAMP].iloc[fired]) if fired is not None else None
    return ConceptVerdict(version, len(fresh), drop, fired, fired_at)
