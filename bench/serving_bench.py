"""Serving figures: gateway p50/p99 and throughput at batch 1 and 64, next to direct Triton and in-process.

Builds a small platform in a temporary folder, starts the real stack (Triton + gateway) and measures all
three paths in the same run on the same rows, so the ratios isolate what each layer costs. The HTTP figures
come from a gateway in its own process (``mlops serve --triton-grpc``, as a gateway pod runs), driven by a
keep-alive standard-library client: a client sharing the gateway's interpreter, or httpx's own ~0.2 ms a
request, would be charged to the gateway.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPEATS = 3_000
"""Samples per latency figure: a p99 over 1,000 rests on its 10 worst, which one scheduler hiccup moves."""


def _timed(call: Callable[[], object], repeats: int) -> np.ndarray:
    for _ in range(50):
        call()
    out = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        call()
        out[i] = (time.perf_counter() - start) * 1000
    return out


def _throughput(make_call: Callable[[], Callable[[], object]], clients: int, seconds: float = 4.0) -> float:
    """Requests per second of ``clients`` threads, each with its own ``make_call()`` (its own connection)."""
    done, stop = [0] * clients, threading.Event()

    def worker(k: int) -> None:
        call = make_call()
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


def _predict_poster(port: int, entity_ids: list[int]) -> Callable[[], None]:
    """One keep-alive connection posting the same prediction request; any non-200 answer fails the bench."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"entity_ids": entity_ids})
    headers = {"content-type": "application/json"}

    def post() -> None:
        connection.request("POST", "/v1/predict", body, headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"gateway answered {response.status}: {payload[:200]!r}")

    return post


def _triton_scorer(url: str, version: str) -> Callable[[np.ndarray], object]:
    """Direct Triton over gRPC with tritonclient's blocking client: the floor under the gateway."""
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(url=url)
    output = grpcclient.InferRequestedOutput("probabilities")

    def score(matrix: np.ndarray) -> object:
        request = grpcclient.InferInput("X", list(matrix.shape), "FP32")
        request.set_data_from_numpy(matrix)
        return client.infer("churn", [request], model_version=version, outputs=[output]).as_numpy("probabilities")

    return score


def run() -> list[dict]:
    import dagster as dg
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.core.model_artifact import OnnxScorer
    from mlops_assets.serving.gateway import PredictRequest
    from mlops_assets.serving.stack import ServingStack
    from tests.lifecycle_runs import auto_approval, build_downstream, ingest_days
    from tests.lifecycle_state import make_definitions
    from tests.mlops_serve import start_mlops_serve

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
        data_dir = Path(tmp) / "data"
        defs = make_definitions(data_dir)
        ingest_days(defs, instance, "2026-01-01", "2026-01-08", {"rows_per_day": 600}, quiet=True)
        build_downstream(defs, instance, auto_approval(), quiet=True)
        resources = defs.resources
        champion = resources["registry"].version_by_alias("champion")
        scorer = OnnxScorer(resources["registry"].download(champion))
        ids = pd.read_parquet(resources["feast"].source_path)["customer_id"].unique().tolist()
        stack = ServingStack(resources["serving"], resources["feast"]).start()
        gateway_process, port = start_mlops_serve(data_dir, "--triton-grpc", stack.triton.grpc_url)
        try:
            frame = (
                resources["feast"]
                .store()
                .get_online_features(
                    features=stack.gateway.features._service, entity_rows=[{d.ENTITY: i} for i in ids[:64]]
                )
                .to_df()
            )
            matrix = np.ascontiguousarray(d.encode(frame), dtype=np.float32)
            triton = _triton_scorer(stack.triton.grpc_url, str(champion.version))
            direct: dict[int, np.ndarray] = {}
            for batch in (1, 64):
                x = matrix[:batch]
                local = _timed(lambda x=x: scorer.predict_proba(x), REPEATS)
                direct[batch] = _timed(lambda x=x: triton(x), REPEATS)
                gateway = _timed(_predict_poster(port, ids[:batch]), REPEATS)
                rows += _latency_rows(
                    f"gateway {{p}} latency, batch {batch} (ms, Feast + Triton)",
                    gateway,
                    direct[batch],
                    "direct Triton gRPC, same rows",
                    p99_target="< 2 ms" if batch == 1 else "-",
                )
                rows += _latency_rows(
                    f"direct Triton {{p}} latency, batch {batch} (ms)",
                    direct[batch],
                    local,
                    "in-process onnxruntime, same rows",
                )
            # The same request without HTTP: what FastAPI/uvicorn add is the difference to the gateway row.
            request, loop = PredictRequest(entity_ids=ids[:1]), asyncio.new_event_loop()
            in_process = _timed(lambda: loop.run_until_complete(stack.gateway.predict(request)), REPEATS)
            loop.close()
            rows += _latency_rows(
                "gateway {p} latency without HTTP, batch 1 (ms)", in_process, direct[1], "direct Triton gRPC, same rows"
            )
            for batch, clients, target in ((1, 1, "-"), (1, 4, "> 1000 req/s"), (64, 1, "-")):
                x = matrix[:batch]
                rate = _throughput(lambda batch=batch: _predict_poster(port, ids[:batch]), clients)
                direct_rate = _throughput(lambda x=x: lambda: triton(x), clients)
                rows.append(
                    {
                        "figure": f"gateway throughput, batch {batch}, {clients} client(s) (req/s)",
                        "value": rate,
                        "baseline": direct_rate,
                        "baseline_name": f"direct Triton gRPC, {clients} client(s)",
                        "target": target,
                    }
                )
        finally:
            gateway_process.terminate()
            gateway_process.wait(30)
            stack.stop()
    return rows
