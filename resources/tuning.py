"""Where Optuna studies persist: SQLite under the data folder by default, PostgreSQL in production.

A study outlives the Dagster run that started it, so the next retrain of the same model continues it
(warm start) instead of searching from scratch.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class TuningResource(dg.ConfigurableResource):
    """``storage`` is an Optuna RDB URL: ``sqlite:///.../studies.db`` or ``postgresql://...``."""

    storage: str
    study_prefix: str = "churn"

    def storage_url(self) -> str:
        if self.storage.startswith("sqlite:///"):
            Path(self.storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return self.storage

    def study_name(self, metric: str) -> str:
        """One study per model and metric: trials optimising different metrics do not mix."""
        return f"{self.study_prefix}-{metric}"
