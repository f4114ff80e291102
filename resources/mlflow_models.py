"""Models, datasets and artifacts logged to MLflow, as a ``ConfigurableResource`` over ``MlflowStore``.

A model is logged as an MLflow 3 logged model in the ONNX flavour (MLmodel, signature, input example) whose
``model.onnx`` holds exactly the bytes that were hashed, so the registry's ``weights.sha256``, Triton's
file and MLflow's pyfunc loader (ONNX flavour, no pickle) all see one artifact.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resources.mlflow_store import MlflowStore

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from mlflow.models import ModelSignature

ONNX_MODEL_FILE = "model.onnx"
"""The ONNX flavour's data file inside a logged model, and the file Triton loads from a version folder."""


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow 3 logged model: its id, its ``models:/<id>`` URI and where its files are."""

    model_id: str
    uri: str
    artifact_location: str


class MlflowArtifacts(MlflowStore):
    """What a run records besides params and metrics: files, ONNX logged models, dataset and model inputs."""

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
