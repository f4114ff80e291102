"""The registered challenger: which registry version the newest evaluated model became, and its evaluation.

``registered_model`` returns it (Dagster stores it as ``records/registered_model.json``); the promotion gate
(``champion_model``, and ``production_deployment`` after a canary) takes it and compares the figures of the
evaluation it carries, so the gate judges the very version the registry step registered.
"""

from __future__ import annotations

from mlops_assets.core.record import Record
from mlops_assets.evaluation.report import EvaluationReport


class ChallengerRef(Record):
    """Registry ``version`` of the model whose artifact hashes to ``sha256``, with its evaluation."""

    version: str
    sha256: str
    evaluation: EvaluationReport

    def gate_metrics(self, champion_version: str | int | None) -> tuple[dict[str, float], dict[str, float] | None]:
        """The challenger's and (if measured on the same data) champion ``champion_version``'s gate metrics."""
        challenger = {"oot_roc_auc": self.evaluation.candidate_oot_roc_auc}
        champion_auc = self.evaluation.champion_oot_roc_auc(champion_version) if champion_version else None
        return challenger, None if champion_auc is None else {"oot_roc_auc": champion_auc}
