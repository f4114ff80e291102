"""MLflow experiment tracking as a ``ConfigurableResource``: one MLflow run per Dagster run, ended with its outcome.

It keeps dagster-mlflow's conventions (see ``mlflow_store`` for why the project does not use that package):
the run is tagged ``dagster_run_id`` (every step of a Dagster run logs into the same MLflow run) and ends
FINISHED, FAILED or KILLED with its step. ``MlflowResource`` is the one resource the assets take; it also
logs models and artifacts (``mlflow_models``) and links to the UI (``mlflow_store``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg

from resources.mlflow_models import MlflowArtifacts
from resources.mlflow_store import DEFAULT_UI_URL as DEFAULT_UI_URL

DAGSTER_RUN_TAG = "dagster_run_id"
"""dagster-mlflow's tag for the Dagster run an MLflow run belongs to."""
DAGSTER_JOB_TAG = "dagster_job_name"
DAGSTER_PARTITION_TAG = "dagster_partition"
COPIED_RUN_TAG_PREFIX = "mlops/"
"""Dagster run tags copied onto the MLflow run: why it ran (``mlops/trigger``, ``mlops/reason``)."""


@dataclass
class TrackedRun:
    """The MLflow run a step logs into; ``status`` is what it ends with when the step's code returns."""

    run_id: str
    status: str = "FINISHED"


class MlflowResource(MlflowArtifacts):
    """Runs of the experiment: one per Dagster run, its nested trial runs, params, metrics and outcome."""

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

    @contextlib.contextmanager
    def tracked_run(self, dagster_run: dg.DagsterRun, run_name: str) -> Iterator[TrackedRun]:
        """The Dagster run's MLflow run, RUNNING while the step's code runs and ended with its outcome.

        FINISHED when the block returns (or ``status`` as the block set it), KILLED when the run is
        cancelled (Dagster interrupts the step), FAILED on any other exception. A second step of the same
        Dagster run reopens the run and ends it again, so the run's status is that of its last step. A
        retry or re-execution ends FAILED whatever its parent run left RUNNING (a worker that died).
        """
        tags = {
            DAGSTER_JOB_TAG: dagster_run.job_name,
            "mlflow.source.type": "JOB",
            "mlflow.source.name": f"dagster:{dagster_run.job_name}",
            **{k: v[:5000] for k, v in dagster_run.tags.items() if k.startswith(COPIED_RUN_TAG_PREFIX)},
        }
        if partition := dagster_run.tags.get("dagster/partition"):
            tags[DAGSTER_PARTITION_TAG] = partition
        if dagster_run.parent_run_id:
            self._end_abandoned(dagster_run.parent_run_id, retry=dagster_run.run_id)
        run = TrackedRun(self.run_for(dagster_run.run_id, run_name, tags))
        self.client().update_run(run.run_id, status="RUNNING")
        try:
            yield run
        except (KeyboardInterrupt, dg.DagsterExecutionInterruptedError):
            self._end_quietly(run.run_id, "KILLED")
            raise
        except BaseException:
            self._end_quietly(run.run_id, "FAILED")
            raise
        self.finish(run.run_id, run.status)

    def _end_abandoned(self, dagster_run_id: str, retry: str) -> None:
        """End FAILED an earlier attempt's run left RUNNING (its worker died, so no step could end it)."""
        client = self.client()
        found = client.search_runs(
            [self.experiment_id()],
            filter_string=f"tags.`{DAGSTER_RUN_TAG}` = '{dagster_run_id}' and attributes.status = 'RUNNING'",
        )
        for abandoned in found:
            client.set_tag(abandoned.info.run_id, "mlops.ended_by", f"Dagster run {retry}, which re-executes its run")
            client.set_terminated(abandoned.info.run_id, "FAILED")

    def _end_quietly(self, run_id: str, status: str) -> None:
        """End a run on the way out of a failing step; the step's own error is the one to report."""
        with contextlib.suppress(Exception):
            self.finish(run_id, status)

    def log(
        self,
        run_id: str,
        *,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
        model_id: str | None = None,
        dataset: tuple[str, str] | None = None,
    ) -> None:
        """Log params, metrics and tags in one batch (one round trip to the tracking server).

        ``model_id`` and ``dataset`` (name, digest) attach the metrics to a logged model and to the dataset
        they were measured on, so the model's page in the UI lists them per dataset.
        """
        from mlflow.entities import Metric, Param, RunTag

        name, digest = dataset or (None, None)
        now = int(time.time() * 1000)
        self.client().log_batch(
            run_id,
            metrics=[
                Metric(k, float(v), now, 0, model_id=model_id, dataset_name=name, dataset_digest=digest)
                for k, v in (metrics or {}).items()
            ],
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
        duration_s: float | None = None,
    ) -> str:
        """An ended run nested under ``parent_run_id`` (a tuning trial under its training run).

        It carries ``mlflow.parentRunId`` (the UI nests it) but not the Dagster run tag, so ``run_for``
        keeps finding the parent. ``duration_s`` dates its start back to when the trial began.
        """
        client = self.client()
        parent = client.get_run(parent_run_id)
        now = int(time.time() * 1000)
        child = client.create_run(
            parent.info.experiment_id,
            start_time=now - int((duration_s or 0.0) * 1000),
            run_name=run_name,
            tags={"mlflow.parentRunId": parent_run_id, **(tags or {})},
        )
        self.log(child.info.run_id, params=params, metrics=metrics)
        client.set_terminated(child.info.run_id, status, end_time=now)
        return child.info.run_id

    def child_runs(self, parent_run_id: str) -> list:
        """The parent's nested runs, oldest first."""
        client = self.client()
        experiment_id = client.get_run(parent_run_id).info.experiment_id
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'", max_results=1000
        )
        return sorted(runs, key=lambda r: r.info.start_time)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client().set_terminated(run_id, status)
