"""The model record: one trained ONNX artifact, the data and parameters it came from, where MLflow holds it.

``trained_model`` returns it (Dagster stores it as ``records/trained_model.json``) and writes it beside the
artifact, ``models/<sha256>/record.json``; evaluation and the registry read it through ``ModelRecord``, so a
renamed field fails where the record is read, naming the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_assets.core.artifacts import verify_sha256
from mlops_assets.core.record import Record

if TYPE_CHECKING:
    from resources.storage import LakeResource

MODELS = "models"
MODEL_FILE = "model.onnx"
RECORD_FILE = "record.json"


class ModelRecord(Record):
    """A trained model, named by its artifact's sha256."""

    sha256: str
    size_bytes: int
    format: str
    quantization: str
    dataset_version: str
    dataset_sha256: str
    params: dict[str, Any]
    metrics: dict[str, float]
    tuning: dict[str, Any]
    mlflow_run_id: str
    model_id: str | None
    model_uri: str
    artifact_uri: str
    dagster_run_id: str
    trained_at: str


def write_model(lake: LakeResource, onnx_bytes: bytes, record: ModelRecord) -> None:
    """The artifact and its record under ``models/<sha256>/`` (content-addressed: never overwritten)."""
    lake.write_bytes(onnx_bytes, MODELS, record.sha256, MODEL_FILE)
    lake.write_json(record.model_dump(), MODELS, record.sha256, RECORD_FILE)


def read_model_bytes(lake: LakeResource, record: ModelRecord) -> bytes:
    """The artifact ``record`` describes; an ``ArtifactIntegrityError`` if its bytes do not hash to it."""
    data = lake.path(MODELS, record.sha256, MODEL_FILE).read_bytes()
    verify_sha256(data, record.sha256, f"model artifact {record.sha256[:12]}")
    return data


def read_model_record(lake: LakeResource, sha256: str) -> ModelRecord:
    """The record of the model whose artifact hashes to ``sha256``, validated."""
    return ModelRecord.model_validate(lake.read_json(MODELS, sha256, RECORD_FILE))
