"""The prediction gateway in front of Triton (``mlops serve``): what a request does, without HTTP.

``app.py`` serves it over HTTP. A prediction request takes entity ids (features read from Feast's online
store, the same feature service training used) or raw feature rows; each entity is routed to champion or
challenger (sticky, by the routing table's share); the baseline answers on error or timeout and each
prediction says so; every prediction is logged for monitoring and counted in Prometheus metrics.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlops_assets.core import domain as d
from mlops_assets.core.artifacts import BASELINE_MODEL, CHURN_MODEL
from mlops_assets.core.baseline import baseline_scores
from mlops_assets.core.traffic import CHALLENGER, CHAMPION, route
from mlops_assets.serving.backends import (
    ModelServerError,
    OnlineStoreUnavailable,
    UnknownEntities,
)
from mlops_assets.serving.metrics import GatewayMetrics
from mlops_assets.serving.prediction_log import PredictionLog
from mlops_assets.serving.routing import RoutingWatcher

MAX_BATCH = 1_024


EntityId = Annotated[int, Field(ge=0, le=2**63 - 1)]
"""Customer ids are non-negative int64 keys in the online store; anything else is the client's error."""


class PredictRequest(BaseModel):
    """Exactly one of ``entity_ids`` or ``rows``; rows carry every feature in ``domain``."""

    model_config = ConfigDict(extra="forbid")
    entity_ids: list[EntityId] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)
    rows: list[dict[str, float | int | str | None]] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def _one_source(self) -> PredictRequest:
        if (self.entity_ids is None) == (self.rows is None):
            raise ValueError("send exactly one of 'entity_ids' or 'rows'")
        return self


@dataclass
class Gateway:
    """The gateway's parts; tests build it with real Feast and Triton backends."""

    features: Any
    scorer: Any
    routing: RoutingWatcher
    log: PredictionLog
    metrics: GatewayMetrics
    monitoring_metrics: Path | None = None
    """The monitoring assets' Prometheus text file, appended to ``/metrics`` when it exists."""

    def render_metrics(self) -> bytes:
        body = self.metrics.render()
        if self.monitoring_metrics is not None and self.monitoring_metrics.exists():
            body += self.monitoring_metrics.read_bytes()
        return body

    async def warm_up(self) -> None:
        """Pay first-use costs before traffic arrives, not on the first request.

        Feast imports its online-store modules on its first read, the Triton channel connects on its first
        call and each model's first inference is slow: ~0.3 s that the first clients would otherwise wait.
        Best effort: a store or server that is down now is reported per request, as always.
        """
        if self.features is not None:
            with contextlib.suppress(UnknownEntities, OnlineStoreUnavailable):
                self.features.rows([0])  # any id: an unknown one still loads everything a read needs
        if self.scorer is None:
            return
        routing = self.routing.current()
        zeros = np.zeros((1, len(d.MODEL_FEATURES)), np.float32)
        for model, version in (
            (BASELINE_MODEL, ""),
            *((CHURN_MODEL, v) for v in (routing.champion_version, routing.challenger_version) if v),
        ):
            with contextlib.suppress(ModelServerError):
                await self.scorer.score(model, version, zeros)

    def _rows_columns(self, rows: list[dict[str, Any]]) -> d.Columns:
        """Client-sent feature rows, checked field by field, as column lists (``encode`` needs no DataFrame)."""
        for i, row in enumerate(rows):
            missing = [c for c in (*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES) if c not in row]
            if missing:
                raise ClientError(422, f"rows[{i}] lacks features {missing}")
            for name in d.NUMERIC_NAMES:
                value = row[name]
                if isinstance(value, str) or (isinstance(value, float) and not np.isfinite(value)):
                    raise ClientError(422, f"rows[{i}].{name} must be a finite number or null, got {value!r}")
            for name in d.CATEGORICAL_NAMES:
                if row[name] is not None and not isinstance(row[name], str):
                    raise ClientError(422, f"rows[{i}].{name} must be a string, got {row[name]!r}")
        return {name: [row[name] for row in rows] for name in (*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES)}

    async def _score(self, arm: str, version: str | None, matrix: np.ndarray) -> tuple[np.ndarray, str, str | None]:
        """Scores, the model that answered, and the fallback reason (None when no fallback)."""
        if version is not None:
            try:
                return await self.scorer.score(CHURN_MODEL, version, matrix), f"{CHURN_MODEL}:{version}", None
            except ModelServerError as exc:
                reason = f"{arm} v{version} failed: {exc}"
        else:
            reason = f"no {arm} model deployed"
        try:
            return await self.scorer.score(BASELINE_MODEL, "", matrix), f"{BASELINE_MODEL} (triton)", reason
        except ModelServerError:
            return baseline_scores(matrix), f"{BASELINE_MODEL} (in-process)", reason + "; triton unreachable"

    async def predict(self, body: PredictRequest) -> dict[str, Any]:
        """Score one request.

        The feature read runs on the event loop (a one-row read costs less than a hop to a worker thread);
        the Triton call is awaited, so concurrent requests overlap their waits on the server.
        """
        started = time.perf_counter()
        if body.entity_ids is not None:
            ids = body.entity_ids
            features = self.features.rows(ids)
        else:
            features = self._rows_columns(body.rows or [])
            ids = [row.get(d.ENTITY) for row in body.rows or []]
        matrix = d.encode(features)
        routing = self.routing.current()
        arms, scores, served, reasons = await self._score_arms(ids, matrix, routing)
        if any(r is not None for r in reasons):
            # A model error may mean the routing changed under us (a rollback unloads the challenger
            # before this gateway's next scheduled re-read): re-read it and score once more if it did.
            fresh = self.routing.current(refresh=True)
            if fresh != routing:
                routing = fresh
                arms, scores, served, reasons = await self._score_arms(ids, matrix, routing)
        latency_ms = (time.perf_counter() - started) * 1000
        self._record(ids, arms, served, reasons, scores, latency_ms, features, routing.salt)
        return {
            "predictions": [
                {
                    "entity_id": e,
                    "score": float(s),
                    "arm": a,
                    "model": m,
                    "fallback": r is not None,
                    **({"fallback_reason": r} if r else {}),
                }
                for e, s, a, m, r in zip(ids, scores, arms, served, reasons, strict=True)
            ],
            "latency_ms": round(latency_ms, 3),
        }

    async def _score_arms(
        self, ids: list[Any], matrix: np.ndarray, routing: Any
    ) -> tuple[list[str], np.ndarray, list[str], list[str | None]]:
        """Each row's arm (sticky by entity), score, answering model and fallback reason."""
        arms = [
            route(e, routing.challenger_share, routing.salt)
            if e is not None and routing.challenger_version
            else CHAMPION
            for e in ids
        ]
        scores = np.empty(len(ids), dtype=np.float32)
        served: list[str] = [""] * len(ids)
        reasons: list[str | None] = [None] * len(ids)
        for arm in (CHAMPION, CHALLENGER):
            index = [i for i, a in enumerate(arms) if a == arm]
            if not index:
                continue
            version = routing.champion_version if arm == CHAMPION else routing.challenger_version
            part, model, reason = await self._score(arm, version, matrix[index])
            scores[index] = part
            for i in index:
                served[i], reasons[i] = model, reason
        return arms, scores, served, reasons

    def _record(self, ids, arms, served, reasons, scores, latency_ms, features, salt) -> None:  # noqa: ANN001
        """Count the request in the metrics and append it to the prediction log, column by column."""
        now = dt.datetime.now(dt.UTC)
        count = len(ids)
        fallbacks = [reason is not None for reason in reasons]
        values = scores.tolist()
        for (arm, model, reason), index in _groups(arms, served, reasons).items():
            self.metrics.requests.labels(arm=arm, outcome="ok" if reason is None else "fallback").inc(len(index))
            if reason is not None:
                kind = "no_model" if reason.startswith("no ") else "model_error"
                self.metrics.fallbacks.labels(reason=kind).inc(len(index))
            latency, distribution = (
                self.metrics.latency.labels(model_version=model),
                self.metrics.scores.labels(model_version=model),
            )
            for i in index:
                latency.observe(latency_ms / 1000)
                distribution.observe(values[i])
        columns: dict[str, list[Any]] = {
            "ts": [now] * count,
            "event_day": [now.strftime("%Y-%m-%d")] * count,
            "entity_id": list(ids),
            "arm": arms,
            "model": served,
            "score": values,
            "latency_ms": [latency_ms] * count,
            "fallback": fallbacks,
            "salt": [salt] * count,
        }
        # missing numbers logged as NaN, not None: every log chunk then has float columns, whatever it holds
        columns |= {c: [math.nan if v is None else v for v in features[c]] for c in d.NUMERIC_NAMES if c in features}
        columns |= {c: list(features[c]) for c in d.CATEGORICAL_NAMES if c in features}
        self.log.extend_columns(columns, count)


def _groups(arms: list[str], served: list[str], reasons: list[str | None]) -> dict[tuple, list[int]]:
    """Row indices by (arm, answering model, fallback reason): one metrics child per group, not per row."""
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(arms, served, reasons, strict=True)):
        groups.setdefault(key, []).append(i)
    return groups


class ClientError(Exception):
    """A request the client must fix; becomes a 4xx naming the field."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
