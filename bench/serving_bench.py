"""Serving figures: gateway p50/p99 and throughput at batch 1 and 64, next to direct Triton and in-process.

Builds a small platform in a temporary folder, starts the real stack (Triton + gateway) and measures all
three paths in the same run on the same rows, so the ratios isolate what each layer costs.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def _timed(call, repeats: int) -> np.ndarray:
    for _ in range(20):
        call()
    out = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        call()
        out[i] = (time.perf_counter() - start) * 1000
    return out


def _throughput(call, clients: int = 4, seconds: float = 3.0) -> float:
    done, stop = [0] * clients, threading.Event()

    def worker(k: int) -> None:
        while not stop.is_set():
            call()
            done[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(done) / seconds


def _latency_rows(
    figure: str, samples: np.ndarray, baseline: np.ndarray, baseline_name: str, p99_target: str = "-"
) -> list[dict]:
    """p50 and p99 rows of one latency figure (``{p}`` in ``figure`` names the percentile) against a baseline's."""
    return [
        {
            "figure": figure.format(p=name),
            "value": float(np.percentile(samples, q)),
            "baseline": float(np.percentile(baseline, q)),
            "baseline_name": baseline_name,
            "target": p99_target if name == "p99" else "-",
        }
        for name, q in (("p50", 50), ("p99", 99))
    ]


def run() -> list[dict]:
    import dagster as dg
    import httpx
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.core.model_artifact import OnnxScorer
    from mlops_assets.lifecycle_runs import auto_approval, build_downstream, ingest_days
    from mlops_assets.serving.backends import TritonScorer
    from mlops_assets.serving.gateway import PredictRequest
    from mlops_assets.serving.stack import ServingStack
    from tests.conftest import make_definitions

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
        defs = make_definitions(Path(tmp) / "data")
        ingest_days(defs, instance, "2026-01-01", "2026-01-08", {"rows_per_day": 600}, quiet=True)
        build_downstream(defs, instance, auto_approval(), quiet=True)
        resources = defs.resources
        champion = resources["registry"].version_by_alias("champion")
        scorer = OnnxScorer(resources["registry"].download(champion))
        ids = pd.read_parquet(resources["feast"].source_path)["customer_id"].unique().tolist()
        stack = ServingStack(resources["serving"], resources["feast"]).start()
        try:
            frame = (
                resources["feast"]
                .store()
                .get_online_features(
                    features=stack.gateway.features._service, entity_rows=[{d.ENTITY: i} for i in ids[:64]]
                )
                .to_df()
            )
            matrix = d.encode(frame)
            triton = TritonScorer(stack.triton.grpc_url, timeout_s=5)
            client = httpx.Client(base_url=stack.url, timeout=10)
            version = str(champion.version)
            for batch in (1, 64):
                x, body = matrix[:batch], {"entity_ids": ids[:batch]}
                local = _timed(lambda x=x: scorer.predict_proba(x), 500)
                direct = _timed(lambda x=x: triton.score("churn", version, x), 500)
                if batch == 1:
                    direct_batch1 = direct
                gateway = _timed(lambda body=body: client.post("/v1/predict", json=body), 500)
                rows += _latency_rows(
                    f"gateway {{p}} latency, batch {batch} (ms, Feast + Triton)",
                    gateway,
                    direct,
                    "direct Triton gRPC, same rows",
                    p99_target="< 2 ms" if batch == 1 else "-",
                )
                rows += _latency_rows(
                    f"direct Triton {{p}} latency, batch {batch} (ms)",
                    direct,
                    local,
                    "in-process onnxruntime, same rows",
                )
            # The same request without HTTP: what FastAPI/uvicorn/httpx add is the difference to the gateway row.
            request = PredictRequest(entity_ids=ids[:1])
            in_process = _timed(lambda: stack.gateway.predict(request), 500)
            rows += _latency_rows(
                "gateway {p} latency without HTTP, batch 1 (ms)",
                in_process,
                direct_batch1,
                "direct Triton gRPC, same rows",
            )
            for batch, target in ((1, "> 1000 req/s"), (64, "-")):
                body, x = {"entity_ids": ids[:batch]}, matrix[:batch]
                rate = _throughput(lambda body=body: client.post("/v1/predict", json=body), clients=1)
                direct_rate = _throughput(lambda x=x: triton.score("churn", version, x), clients=1)
                rows.append(
                    {
                        "figure": f"gateway throughput, batch {batch}, 1 client (req/s)",
                        "value": rate,
                        "baseline": direct_rate,
                        "baseline_name": "direct Triton gRPC, 1 client",
                        "target": target,
                    }
                )
            client.close()
        finally:
            stack.stop()
    return rows
