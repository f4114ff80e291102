"""The MLflow connection as a ``ConfigurableResource``: tracking store, experiment and the UI's links.

dagster-mlflow's ``mlflow_tracking`` resource does the same job but is a legacy function-style resource that
configures MLflow through process-global state (``mlflow.set_tracking_uri``, the active run, environment
variables). That breaks with two runs in one process (tests, the in-process demo, the multiprocess
executor) and cannot take ``dg.EnvVar``, so the project does not depend on it. This resource talks to an
explicit ``MlflowClient`` instead, so every call names its run. What is logged through it lives in
``mlflow_models`` (models, datasets, artifacts) and ``mlflow_tracking`` (runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from resources.mlflow_import import import_mlflow

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
"""Makes the MLflow 3 UI open the experiment as model training (runs, models), not in its GenAI mode."""
DEFAULT_UI_URL = "http://127.0.0.1:5000"


class MlflowStore(dg.ConfigurableResource):
    """Tracking store (``sqlite:///...`` embedded, ``http://mlflow:5000`` in production) and experiment.

    ``ui_url`` is where people open the MLflow UI (links in Dagster metadata). Left at its default with a
    tracking server, the links point at that server, which serves the UI itself.
    """

    tracking_uri: str
    artifact_location: str = ""
    experiment: str = "churn"
    ui_url: str = DEFAULT_UI_URL

    def client(self) -> MlflowClient:
        import_mlflow()
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def experiment_id(self) -> str:
        """The experiment's id, creating it (tagged as model training) on first use."""
        client = self.client()
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            if found.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
                client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
            return found.experiment_id
        location = self.artifact_location or None
        if location and "://" not in location:
            Path(location).mkdir(parents=True, exist_ok=True)
            location = Path(location).resolve().as_uri()
        try:
            return client.create_experiment(
                self.experiment, artifact_location=location, tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
            )
        except Exception:  # another process created it first
            existing = client.get_experiment_by_name(self.experiment)
            if existing is None:
                raise
            return existing.experiment_id

    def ui_base(self) -> str:
        """The MLflow UI's address for links, never with credentials (``make mlflow-ui`` serves port 5000)."""
        from urllib.parse import urlsplit, urlunsplit

        base = self.ui_url
        if base == DEFAULT_UI_URL and self.tracking_uri.startswith("http"):
            base = self.tracking_uri  # a tracking server serves the UI itself
        parts = urlsplit(base)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")

    def run_url(self, run_id: str) -> str:
        """Where a person finds the run in the MLflow UI."""
        return f"{self.ui_base()}/#/experiments/{self.experiment_id()}/runs/{run_id}"

    def version_url(self, model_name: str, version: str | int) -> str:
        """Where a person finds a registered model version in the MLflow UI."""
        return f"{self.ui_base()}/#/models/{model_name}/versions/{version}"
