"""Live traffic for the demo: batches of known customers posted to the gateway until stopped.

It stands in for the applications that call the model, so the canary collects evidence on both arms and
the prediction-drift report has logged scores. Failures are counted, never raised: the loop is watched.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class TrafficStats:
    """What the generator sent and what came back."""

    requests: int = 0
    predictions: int = 0
    fallbacks: int = 0
    failures: int = 0
    failure_kinds: Counter[str] = field(default_factory=Counter)
    """Why requests failed: the HTTP status (``503``, ``404``) or the client error's type (``ReadTimeout``)."""


class TrafficGenerator:
    """A thread posting ``batch`` entity ids every ``pause_s`` seconds to ``url``/v1/predict."""

    def __init__(self, url: str, entity_ids: list[int], batch: int = 20, pause_s: float = 0.05) -> None:
        self.url = url
        self.entity_ids = entity_ids
        self.batch = batch
        self.pause_s = pause_s
        self.stats = TrafficStats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="traffic")

    def start(self) -> TrafficGenerator:
        self._thread.start()
        return self

    def _run(self) -> None:
        import httpx

        position = 0
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.wait(self.pause_s):
                ids = [self.entity_ids[(position + i) % len(self.entity_ids)] for i in range(self.batch)]
                position += self.batch
                try:
                    body = client.post("/v1/predict", json={"entity_ids": ids}).raise_for_status().json()
                except httpx.HTTPStatusError as exc:  # refused: counted by status, the demo reports it
                    self._failed(str(exc.response.status_code))
                    continue
                except Exception as exc:  # no answer at all (timeout, connection refused)
                    self._failed(type(exc).__name__)
                    continue
                self.stats.requests += 1
                self.stats.predictions += len(body["predictions"])
                self.stats.fallbacks += sum(p["fallback"] for p in body["predictions"])

    def _failed(self, kind: str) -> None:
        self.stats.failures += 1
        self.stats.failure_kinds[kind] += 1

    def stop(self) -> TrafficStats:
        self._stop.set()
        self._thread.join(15)
        return self.stats
