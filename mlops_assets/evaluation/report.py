"""The evaluation report: the candidate and the current champion measured on the same held-out data.

``model_evaluation`` returns it (Dagster stores it as ``records/model_evaluation.json``); the registry reads
the candidate's and the champion's figures from it through these types and accessors, never through the
labels the Dagster UI's comparison table shows.
"""

from __future__ import annotations

from typing import Any

from mlops_assets.core.record import Record

CANDIDATE_LABEL = "candidate"


class SplitQuality(Record):
    """One model's quality on one split (``quality_metrics.quality``); AUC is NaN for a single class."""

    roc_auc: float
    log_loss: float
    brier: float
    accuracy: float
    positive_rate: float
    rows: float


class Fairness(Record):
    """Spread of outcomes across the protected segment's groups (0: perfectly even)."""

    demographic_parity_difference: float
    equal_opportunity_difference: float
    groups: float


class Latency(Record):
    """Single-row prediction latency in milliseconds."""

    latency_p50_ms: float
    latency_p99_ms: float


class ModelMetrics(Record):
    """Everything measured of one model: quality per split, fairness, latency, quality per segment."""

    validation: SplitQuality
    oot_test: SplitQuality
    fairness: Fairness
    latency: Latency
    segments: dict[str, list[dict[str, Any]]]


class Comparison(Record):
    """The candidate's metrics and, when there was a champion, the champion's on the same data."""

    candidate: ModelMetrics
    champion: ModelMetrics | None = None


class EvaluationReport(Record):
    """The evaluation of the model whose artifact hashes to ``model_sha256``."""

    model_sha256: str
    report: Comparison
    summary: dict[str, float]
    champion_version: str | None = None

    @property
    def candidate(self) -> ModelMetrics:
        return self.report.candidate

    @property
    def candidate_oot_roc_auc(self) -> float:
        """The candidate's ROC AUC on the out-of-time test: the figure the gates compare."""
        return self.report.candidate.oot_test.roc_auc

    def champion(self, version: str | int) -> ModelMetrics | None:
        """The metrics of champion ``version`` if it is the champion this candidate was compared with."""
        if self.report.champion is None or self.champion_version is None:
            return None
        return self.report.champion if str(version) == self.champion_version else None

    def champion_oot_roc_auc(self, version: str | int) -> float | None:
        """Champion ``version``'s out-of-time ROC AUC on this evaluation's data, if it was measured."""
        metrics = self.champion(version)
        return metrics.oot_test.roc_auc if metrics else None

    def labelled(self) -> dict[str, ModelMetrics]:
        """The models under their display labels (``candidate``, ``champion (v3)``), for tables and plots."""
        models = {CANDIDATE_LABEL: self.report.candidate}
        if self.report.champion is not None:
            models[f"champion (v{self.champion_version})"] = self.report.champion
        return models
