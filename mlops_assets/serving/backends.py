"""Where the gateway gets features and scores: Feast's online store and the Triton server.

Both sides fail loudly with their own exception types, so the gateway can tell "the online store is
down" (degraded: refuse entity lookups rather than guess features) from "Triton is down" (serve the
fallback model and say so).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import numpy as np

from mlops_assets.core import domain as d

CHURN_MODEL = "churn"
BASELINE_MODEL = "churn_baseline"


class OnlineStoreUnavailable(RuntimeError):
    """The online store could not be read; no features are served rather than wrong ones."""


class UnknownEntities(KeyError):
    """Entities with no features in the online store (never materialized or expired by TTL)."""


class ModelServerError(RuntimeError):
    """Triton refused, failed or timed out."""


class FeastFeatures:
    """Online feature rows for entity ids: the feature service's stored features, read through Feast.

    The service's on-demand view (the ratios) is not read through Feast, whose pandas transformation costs
    ~1.7 ms per request: ``domain.encode`` computes the ratios with the same formulas the view uses. The
    serving tests compare the gateway's answers with features read through the whole service.
    """

    def __init__(self, store: Any) -> None:
        from mlops_assets.core.feature_definitions import FEATURE_SERVICE

        self._store = store
        self._service = store.get_feature_service(FEATURE_SERVICE)
        on_demand = {view.name for view in store.list_on_demand_feature_views()}
        self._refs = [
            f"{projection.name}:{feature.name}"
            for projection in self._service.feature_view_projections
            if projection.name not in on_demand
            for feature in projection.features
        ]

    def rows(self, entity_ids: list[int]) -> d.Columns:
        try:
            result = self._store.get_online_features(
                features=self._refs, entity_rows=[{d.ENTITY: int(e)} for e in entity_ids]
            ).to_dict()
        except Exception as exc:
            raise OnlineStoreUnavailable(f"online store read failed: {type(exc).__name__}: {exc}") from exc
        columns = d.NUMERIC_NAMES + d.CATEGORICAL_NAMES
        unknown = [
            int(entity)
            for entity, *values in zip(result[d.ENTITY], *(result[c] for c in columns), strict=True)
            if all(v is None or v != v for v in values)  # None or NaN: nothing stored for this entity
        ]
        if unknown:
            raise UnknownEntities(unknown)
        return result


class TritonScorer:
    """Scores a model-input matrix with a named model version on Triton over gRPC's asyncio API.

    Awaiting Triton lets one gateway process overlap many requests' waits on the server without a thread
    per request. A ``grpc.aio`` channel belongs to the event loop that opened it, so there is one client per
    loop (uvicorn's, a test client's).
    """

    def __init__(self, url: str, timeout_s: float = 0.5) -> None:
        import tritonclient.grpc.aio as grpcclient

        self._grpc = grpcclient
        self._url = url
        self._timeout_s = timeout_s
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._grpc.InferenceServerClient(url=self._url)
        return client

    async def score(self, model: str, version: str, matrix: np.ndarray) -> np.ndarray:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        request = self._grpc.InferInput("X", list(matrix.shape), "FP32")
        request.set_data_from_numpy(matrix)
        output = self._grpc.InferRequestedOutput("probabilities")
        try:
            result = await self._client().infer(
                model, [request], model_version=version or "", outputs=[output], client_timeout=self._timeout_s
            )
        except Exception as exc:
            raise ModelServerError(f"{model} v{version or 'latest'}: {type(exc).__name__}: {exc}") from exc
        return result.as_numpy("probabilities")[:, 1]

    async def ready(self, model: str, version: str = "") -> bool:
        try:
            return bool(await self._client().is_model_ready(model, version or "", client_timeout=self._timeout_s))
        except Exception:
            return False

    async def close(self) -> None:
        """Close this event loop's client (the others close with their loops)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()
