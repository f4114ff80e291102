"""MLflow experiment tracking as a ``ConfigurableResource``: one MLflow run per Dagster run.

dagster-mlflow's ``mlflow_tracking`` resource does the same job but is a legacy function-style resource that
configures MLflow through process-global state (``mlflow.set_tracking_uri``, the active run, environment
variables). That breaks with two runs in one process (tests, the in-process demo, the multiprocess
executor) and cannot take ``dg.EnvVar``. This resource talks to an explicit ``MlflowClient`` instead, so
every call names its run, and it keeps dagster-mlflow's convention of tagging the run with the Dagster run
id, so every step of a Dagster run logs into the same MLflow run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from resources.mlflow_import import import_mlflow

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

DAGSTER_RUN_TAG = "dagster.run_id"


class MlflowResource(dg.ConfigurableResource):
    """Tracking store (``sqlite:///...`` embedded, ``http://mlflow:5000`` in production) and experiment."""

    tracking_uri: str
    artifact_location: str = ""
    experiment: str = "churn"

    def client(self) -> MlflowClient:
        import_mlflow()
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def experiment_id(self) -> str:
        client = self.client()
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        location = self.artifact_location or None
        if location and "://" not in location:
            Path(location).mkdir(parents=True, exist_ok=True)
            location = Path(location).resolve().as_uri()
        try:
            return client.create_experiment(self.experiment, artifact_location=location)
        except Exception:  # another process created it first
            existing = client.get_experiment_by_name(self.experiment)
            if existing is None:
                raise
            return existing.experiment_id

    def run_for(self, dagster_run_id: str, run_name: str, tags: dict[str, str] | None = None) -> str:
        """Return the MLflow run id of this Dagster run, creating the run on first use."""
        client = self.client()
        experiment_id = self.experiment_id()
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`{DAGSTER_RUN_TAG}` = '{dagster_run_id}'", max_results=1
        )
        if runs:
            return runs[0].info.run_id
        run = client.create_run(
            experiment_id, run_name=run_name, tags={DAGSTER_RUN_TAG: dagster_run_id, **(tags or {})}
        )
        return run.info.run_id

    def log(
        self,
        run_id: str,
        *,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Log params, metrics and tags in one batch (one round trip to the tracking server)."""
        import time

        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.client().log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
        )

    def child_run(
        self,
        parent_run_id: str,
        run_name: str,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str] | None = None,
        status: str = "FINISHED",
    ) -> str:
        """A finished run nested under ``parent_run_id`` (a tuning trial under its training run).

        It carries ``mlflow.parentRunId`` (the UI nests it) but not the Dagster run tag, so ``run_for``
        keeps finding the parent.
        """
        client = self.client()
        parent = client.get_run(parent_run_id)
        child = client.create_run(
            parent.info.experiment_id,
            run_name=run_name,
            tags={"mlflow.parentRunId": parent_run_id, **(tags or {})},
        )
        self.log(child.info.run_id, params=params, metrics=metrics)
        client.set_terminated(child.info.run_id, status)
        return child.info.run_id

    def child_runs(self, parent_run_id: str) -> list:
        """The parent's nested runs, oldest first."""
        client = self.client()
        experiment_id = client.get_run(parent_run_id).info.experiment_id
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'", max_results=1000
        )
        return sorted(runs, key=lambda r: r.info.start_time)

    def log_bytes(self, run_id: str, data: bytes, artifact_path: str, filename: str) -> str:
        """Upload ``data`` as ``<artifact_path>/<filename>`` and return the artifact URI of the folder."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / filename
            local.write_bytes(data)
            self.client().log_artifact(run_id, str(local), artifact_path)
        return f"{self.client().get_run(run_id).info.artifact_uri}/{artifact_path}"

    def download_bytes(self, run_id: str, artifact_file: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            local = self.client().download_artifacts(run_id, artifact_file, tmp)
            return Path(local).read_bytes()

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client().set_terminated(run_id, status)

    def run_url(self, run_id: str) -> str:
        """Where a person finds the run in the MLflow UI (``make mlflow-ui`` serves it on port 5000)."""
        from urllib.parse import urlsplit, urlunsplit

        base = "http://127.0.0.1:5000"
        if self.tracking_uri.startswith("http"):
            parts = urlsplit(self.tracking_uri)  # never put credentials from the URI into metadata
            base = urlunsplit(
                (parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", "")
            )
        return f"{base.rstrip('/')}/#/experiments/{self.experiment_id()}/runs/{run_id}"
