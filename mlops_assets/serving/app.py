"""The gateway's HTTP layer: FastAPI routes, status codes and the body limit around ``Gateway``.

Client errors become 4xx naming the field (never echoing the input), unknown entities 404, the online
store being down 503 (degraded); ``/metrics`` serves the gateway's series and the monitoring assets'.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from mlops_assets.core.artifacts import CHURN_MODEL
from mlops_assets.serving.backends import OnlineStoreUnavailable, UnknownEntities
from mlops_assets.serving.gateway import ClientError, Gateway, PredictRequest

MAX_BODY_BYTES = 1 << 20


def create_app(gateway: Gateway, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await gateway.warm_up()
        # Everything loaded so far (Feast, Arrow, gRPC, the models' first calls) lives as long as the process:
        # moved out of the collector's generations, a full collection no longer walks it in a request's time.
        gc.collect()
        gc.freeze()
        yield
        if gateway.scorer is not None:  # the Triton channel opened on this server's event loop
            await gateway.scorer.close()

    # FastAPI's limit counts the bytes actually received, so a chunked body with no Content-Length is cut
    # off at the limit too (413) instead of being read whole.
    app = FastAPI(title="mlops gateway", version="1", lifespan=lifespan, max_body_size=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming each field, without echoing the offending input.

        The input may be huge, or inf (``1e400``), which JSON cannot carry: FastAPI's default handler then
        answers 500.
        """
        gateway.metrics.errors.labels(kind="bad_request").inc()
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.post("/v1/predict")
    async def predict(body: PredictRequest) -> Any:
        try:  # a JSONResponse of plain values skips FastAPI's jsonable_encoder walk of the answer
            return JSONResponse(await gateway.predict(body))
        except ClientError as exc:
            gateway.metrics.errors.labels(kind="bad_request").inc()
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        except UnknownEntities as exc:
            gateway.metrics.errors.labels(kind="unknown_entity").inc()
            return JSONResponse({"detail": f"no online features for entity_ids {exc.args[0][:20]}"}, status_code=404)
        except OnlineStoreUnavailable as exc:
            gateway.metrics.errors.labels(kind="online_store_unavailable").inc()
            return JSONResponse({"detail": f"degraded: {exc}; send feature rows instead"}, status_code=503)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Any:
        routing = gateway.routing.current()
        ready = routing.champion_version is not None and await gateway.scorer.ready(
            CHURN_MODEL, routing.champion_version
        )
        body = {
            "ready": ready,
            "champion_version": routing.champion_version,
            "challenger_version": routing.challenger_version,
            "challenger_share": routing.challenger_share,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        gateway.metrics.challenger_share.set(gateway.routing.current().challenger_share)
        return Response(gateway.render_metrics(), media_type="text/plain; version=0.0.4")

    return app
