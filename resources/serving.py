"""Where serving state lives: model repository, routing table, prediction log, metrics file, endpoint file.

The endpoint file is what ``mlops serve`` writes so assets can find the Triton server it started
(embedded profile). In production ``triton_url`` names the external server instead, and ``device`` says
which Triton the repository is written for: ``cpu`` (Python backend, any machine) or ``gpu``
(onnxruntime backend on a shared GPU; ``MLOPS_TRITON_DEVICE=gpu`` in a cluster).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pydantic

from mlops_assets.deployment.triton_repository import check_device
from mlops_assets.serving.prediction_log import PredictionLog
from resources.triton_server import TritonResource


class ServingResource(dg.ConfigurableResource):
    """Serving paths and the Triton server to deploy to (``triton_url``, or the local one if running)."""

    state_dir: str
    triton_url: str = ""
    device: str = "cpu"
    """``cpu`` or ``gpu``: the Triton backend ``triton_model_repository`` writes each model version for."""

    @pydantic.field_validator("device", mode="before")
    @classmethod
    def _known_device(cls, value: object) -> object:
        """Refuse a device Triton cannot be given a repository for, naming it (an ``EnvVar`` waits for its value)."""
        return value if isinstance(value, dg.EnvVar) else check_device(str(value))

    @property
    def repository(self) -> Path:
        return Path(self.state_dir) / "model_repository"

    @property
    def routing_path(self) -> Path:
        return Path(self.state_dir) / "routing.json"

    @property
    def endpoint_path(self) -> Path:
        return Path(self.state_dir) / "endpoint.json"

    @property
    def monitoring_metrics_path(self) -> Path:
        """Prometheus text file the monitoring assets write and the gateway's ``/metrics`` appends."""
        return Path(self.state_dir) / "metrics" / "monitoring.prom"

    def prediction_log(self) -> PredictionLog:
        return PredictionLog(Path(self.state_dir) / "predictions")

    def triton(self) -> TritonResource | None:
        """The server to load models into, or None when no server is configured or running."""
        url = self.triton_url
        if not url and self.endpoint_path.exists():
            url = json.loads(self.endpoint_path.read_text()).get("triton_http", "")
        if not url:
            return None
        triton = TritonResource(url=url, model_repository=str(self.repository))
        try:
            triton._client().is_server_ready()
        except Exception:
            return None
        return triton
