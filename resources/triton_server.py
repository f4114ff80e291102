"""The Dagster resource that talks to a Triton server: load and unload model versions, readiness.

The server is the local one ``mlops serve`` supervises (``mlops_assets/serving/triton_process.py``) in the
embedded profile, or an external one (production), named by its URL either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

from mlops_assets.serving.triton_process import TritonStartError
from resources.polling import wait_until


class TritonResource(dg.ConfigurableResource):
    """Talks to a Triton server over HTTP: load/unload model versions, check readiness, infer."""

    url: str
    model_repository: str = ""

    def _client(self) -> Any:
        import tritonclient.http as httpclient

        return httpclient.InferenceServerClient(self.url, connection_timeout=5, network_timeout=60)

    def load(self, model: str, versions: list[int] | None = None, timeout: float = 60.0) -> None:
        """Load ``model`` serving exactly ``versions`` (side by side), and wait until each is ready."""
        client = self._client()
        self._wait_while(client, model, {"UNLOADING"}, timeout)
        if versions:
            client.load_model(model, config=self._config_with_versions(model, versions))
        else:
            client.load_model(model)
        pending = [str(v) for v in versions] if versions else [""]

        def all_ready() -> bool:
            pending[:] = [v for v in pending if not client.is_model_ready(model, v)]
            return not pending

        try:
            wait_until(all_ready, timeout, 0.2, f"{model} versions {pending} to be ready")
        except TimeoutError as error:
            raise TritonStartError(f"{model} versions {pending} not ready after {timeout}s") from error

    def _config_with_versions(self, model: str, versions: list[int]) -> str:
        """The model's full config with a ``specific`` version policy (an override replaces the whole config)."""
        from google.protobuf import json_format, text_format
        from tritonclient.grpc import model_config_pb2

        config = model_config_pb2.ModelConfig()
        if self.model_repository:
            text_format.Parse((Path(self.model_repository) / model / "config.pbtxt").read_text(), config)
        else:
            json_format.ParseDict(self._client().get_model_config(model), config, ignore_unknown_fields=True)
        config.version_policy.Clear()
        config.version_policy.specific.versions.extend(sorted(versions))
        return json.dumps(json_format.MessageToDict(config, preserving_proto_field_name=True))

    def unload(self, model: str, timeout: float = 60.0) -> None:
        """Unload every version of ``model`` and wait until Triton has finished unloading them."""
        client = self._client()
        client.unload_model(model)
        self._wait_while(client, model, {"READY", "UNLOADING"}, timeout)

    @staticmethod
    def _wait_while(client: Any, model: str, states: set[str], timeout: float) -> None:
        """Wait until no version of ``model`` is in ``states``.

        Triton's unload returns at once and finishes in the background (~1 s for the Python backend's stub
        processes); a load that arrives meanwhile has crashed Triton 2.51 with SIGSEGV, so loads and
        unloads wait for the model to settle.
        """
        busy: list[str] = []

        def settled() -> bool:
            index = client.get_model_repository_index()
            busy[:] = sorted({m.get("state", "") for m in index if m.get("name") == model} & states)
            return not busy

        try:
            wait_until(settled, timeout, 0.05, f"{model} to leave {'/'.join(sorted(states))}")
        except TimeoutError as error:
            raise TritonStartError(f"{model} still {'/'.join(busy)} after {timeout}s") from error

    def ready(self, model: str, version: str = "") -> bool:
        try:
            return bool(self._client().is_model_ready(model, version))
        except Exception:
            return False
