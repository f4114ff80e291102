"""MLflow experiment tracking as a ``ConfigurableResource``: one MLflow run per Dagster run, ended with its outcome.

dagster-mlflow's ``mlflow_tracking`` resource does the same job but is a legacy function-style resource that
configures MLflow through process-global state (``mlflow.set_tracking_uri``, the active run, environment
variables). That breaks with two runs in one process (tests, the in-process demo, the multiprocess
executor) and cannot take ``dg.EnvVar``, so the project does not depend on it. This resource talks to an
explicit ``MlflowClient`` instead, so every call names its run, and keeps dagster-mlflow's conventions: the
run is tagged ``dagster_run_id`` (every step of a Dagster run logs into the same MLflow run) and ends
FINISHED, FAILED or KILLED with its step.

A model is logged as an MLflow 3 logged model in the ONNX flavour (MLmodel, signature, input example) whose
``model.onnx`` holds exactly the bytes that were hashed, so the registry's ``weights.sha256``, Triton's
file and MLflow's pyfunc loader (ONNX flavour, no pickle) all see one artifact.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from resources.mlflow_import import import_mlflow

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from mlflow.models import ModelSignature
    from mlflow.tracking import MlflowClient

DAGSTER_RUN_TAG = "dagster_run_id"
"""dagster-mlflow's tag for the Dagster run an MLflow run belongs to."""
DAGSTER_JOB_TAG = "dagster_job_name"
DAGSTER_PARTITION_TAG = "dagster_partition"
COPIED_RUN_TAG_PREFIX = "mlops/"
"""Dagster run tags copied onto the MLflow run: why it ran (``mlops/trigger``, ``mlops/reason``)."""
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
"""Makes the MLflow 3 UI open the experiment as model training (runs, models), not in its GenAI mode."""
DEFAULT_UI_URL = "http://127.0.0.1:5000"
ONNX_MODEL_FILE = "model.onnx"
"""The ONNX flavour's data file inside a logged model, and the file Triton loads from a version folder."""


@dataclass
class TrackedRun:
    """The MLflow run a step logs into; ``status`` is what it ends with when the step's code returns."""

    run_id: str
    status: str = "FINISHED"


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow 3 logged model: its id, its ``models:/<id>`` URI and where its files are."""

    model_id: str
    uri: str
    artifact_location: str


class MlflowResource(dg.ConfigurableResource):
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

    def log_onnx_model(
        self,
        run_id: str,
        onnx_bytes: bytes,
        *,
        signature: ModelSignature,
        input_example: np.ndarray,
        metadata: dict[str, Any],
        params: dict[str, Any],
        name: str = "model",
    ) -> LoggedModel:
        """Log ``onnx_bytes`` as an MLflow 3 logged model of ``run_id`` in the ONNX flavour (no pickle).

        What ``mlflow.onnx.log_model`` does, through this resource's client instead of the global tracking
        URI and active run: create the logged model, save it with ``mlflow.onnx.save_model`` (MLmodel,
        signature, input example, pinned requirements), upload it, mark it the run's output, finalize it.
        ``model.onnx`` is then overwritten with ``onnx_bytes`` themselves: ONNX re-serialises the graph on
        save, and the file must be byte for byte the one whose sha256 the registry records.
        """
        import mlflow.onnx
        import onnx
        from mlflow.entities import LoggedModelOutput, LoggedModelStatus
        from mlflow.models import Model

        client = self.client()
        experiment_id = client.get_run(run_id).info.experiment_id
        logged = client.create_logged_model(
            experiment_id,
            name=name,
            source_run_id=run_id,
            params={k: str(v) for k, v in params.items()},
            model_type="classifier",
        )
        try:
            client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
            with tempfile.TemporaryDirectory() as tmp:
                local = Path(tmp) / name
                mlflow.onnx.save_model(
                    onnx.load_model_from_string(onnx_bytes),
                    str(local),
                    mlflow_model=Model(
                        artifact_path=logged.artifact_location,
                        model_uuid=logged.model_id,
                        model_id=logged.model_id,
                        run_id=run_id,
                        metadata=metadata,
                    ),
                    signature=signature,
                    input_example=input_example,
                    pip_requirements=mlflow.onnx.get_default_pip_requirements(),
                    onnx_execution_providers=["CPUExecutionProvider"],
                    onnx_session_options={"intra_op_num_threads": 1, "inter_op_num_threads": 1},
                    save_as_external_data=False,
                )
                (local / ONNX_MODEL_FILE).write_bytes(onnx_bytes)
                client.log_model_artifacts(logged.model_id, str(local))
        except BaseException:
            with contextlib.suppress(Exception):
                client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
            raise
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
        return LoggedModel(logged.model_id, f"models:/{logged.model_id}", logged.artifact_location)

    def log_datasets(
        self, run_id: str, datasets: list[tuple[str, str, pd.DataFrame]], *, digest: str, source: dict[str, str]
    ) -> None:
        """Record ``datasets`` (name, context such as ``training``, rows) as the run's dataset inputs.

        Each carries ``digest`` (the dataset version, a content hash) and ``source`` (the Feast feature
        service it was joined from; source type ``feast``), with the schema and row count the UI shows.
        """
        from mlflow.entities import Dataset, DatasetInput, InputTag
        from mlflow.models import infer_signature
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        inputs = []
        for name, context, frame in datasets:
            with warnings.catch_warnings():  # a hint about serving integer inputs: not about a dataset's schema
                warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer", category=Warning)
                schema = infer_signature(frame).inputs
            dataset = Dataset(
                name=name,
                digest=digest,
                source_type="feast",
                source=json.dumps(source),
                schema=json.dumps({"mlflow_colspec": schema.to_dict()}),
                profile=json.dumps({"num_rows": len(frame), "num_elements": int(frame.size)}),
            )
            inputs.append(DatasetInput(dataset, tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)]))
        self.client().log_inputs(run_id, datasets=inputs)

    def log_model_input(self, run_id: str, model_id: str) -> None:
        """Record a logged model as an input of ``run_id`` (an evaluation run of a model trained earlier)."""
        from mlflow.entities import LoggedModelInput

        self.client().log_inputs(run_id, models=[LoggedModelInput(model_id)])

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client().set_terminated(run_id, status)

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
