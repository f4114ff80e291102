"""Serving figures: `mlops serve` as the README runs it and the split gateway, on two states, against Triton.

Two states:
- the demo's: the data folder ``mlops demo --fresh`` leaves (21 days x 1,500 rows, its 16k-entity online
  store, the on-demand view), with two arms on canary (when the demo's decision promoted the challenger,
  the previous version is put back on canary beside the champion, so routing splits traffic as it does
  during a canary);
- the bench's own: 8 days x 600 rows built in process, champion only (what earlier releases benched).

Two modes on each: ``mlops serve`` (the README's command: Triton supervised by the gateway's process) and
``mlops serve --triton-grpc`` (the gateway alone, as a gateway pod runs it) against the same Triton. Each
gateway is its own process, driven by keep-alive standard-library clients in this process; the baseline
is direct Triton gRPC with tritonclient's blocking client on the same rows, measured in the same run.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPEATS = 3_000
"""Samples per latency figure: a p99 over 1,000 rests on its 10 worst, which one scheduler hiccup moves."""
DEMO_TWO_ARMS_SHARE = 0.3


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


def _bench_state(root: Path) -> Path:
    """The bench's own small platform, built in process: 8 days x 600 rows, champion only."""
    import dagster as dg

    from tests.lifecycle_runs import auto_approval, build_downstream, ingest_days
    from tests.lifecycle_state import make_definitions

    data_dir = root / "bench-state"
    (root / "bench-instance").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "bench-instance")) as instance:
        defs = make_definitions(data_dir)
        ingest_days(defs, instance, "2026-01-01", "2026-01-08", {"rows_per_day": 600}, quiet=True)
        build_downstream(defs, instance, auto_approval(), quiet=True)
    return data_dir


def _demo_state(root: Path) -> Path:
    """What ``mlops demo --fresh`` leaves, with two arms on canary (see the module docstring).

    ``MLOPS_BENCH_DEMO_DIR`` names a data folder a finished ``make demo`` left (copied, never changed);
    without it the bench runs the demo itself first (minutes).
    """
    from mlops_assets.serving.routing import Routing

    data_dir = root / "demo-state"
    if os.environ.get("MLOPS_BENCH_DEMO_DIR"):
        shutil.copytree(
            os.environ["MLOPS_BENCH_DEMO_DIR"], data_dir, ignore=shutil.ignore_patterns("serving/predictions")
        )
    else:
        env = {k: v for k, v in os.environ.items() if k != "MLOPS_PROFILE"} | {"MLOPS_DATA_DIR": str(data_dir)}
        mlops = str(Path(sys.executable).with_name("mlops"))
        subprocess.run([mlops, "demo", "--fresh"], env=env, check=True, stdout=subprocess.DEVNULL)
    routing_path = data_dir / "serving" / "routing.json"
    routing = Routing.load(routing_path)
    if routing.challenger_version is None:
        versions = sorted(
            int(p.name)
            for p in (data_dir / "serving" / "model_repository" / "churn").iterdir()
            if p.name.isdigit() and p.name != routing.champion_version
        )
        if versions:
            Routing(routing.champion_version, str(versions[-1]), DEMO_TWO_ARMS_SHARE, "bench-two-arms").save(
                routing_path
            )
    return data_dir


def _entity_ids(data_dir: Path) -> list[int]:
    import pandas as pd

    frame = pd.read_parquet(data_dir / "lake" / "features" / "customer_snapshots.parquet", columns=["customer_id"])
    return frame["customer_id"].drop_duplicates().sample(frac=1.0, random_state=0).tolist()


def _rows(state: str, mode: str, port: int, ids: list[int], triton: Callable, matrix: np.ndarray) -> list[dict]:
    """p50/p99 at batch 1 and 64 and throughput with 1 and 4 clients of one gateway, against direct Triton."""
    rows: list[dict] = []
    where = f"{mode}, {state}"
    for batch, target in ((1, "< 3 ms"), (64, "-")):
        gateway = _timed(_predict_poster(port, ids[:batch]), REPEATS if batch == 1 else REPEATS // 3)
        direct = _timed(lambda batch=batch: triton(matrix[:batch]), REPEATS if batch == 1 else REPEATS // 3)
        for name, q in (("p50", 50), ("p99", 99)):
            rows.append(
                {
                    "figure": f"gateway {name}, batch {batch} (ms; {where})",
                    "value": float(np.percentile(gateway, q)),
                    "baseline": float(np.percentile(direct, q)),
                    "baseline_name": "direct Triton gRPC, same rows",
                    "target": target if name == "p99" else "-",
                }
            )
    for clients, target in ((1, "-"), (4, "> 1000 req/s")):
        rate = _throughput(lambda: _predict_poster(port, ids[:1]), clients)
        direct_rate = _throughput(lambda: lambda: triton(matrix[:1]), clients)
        rows.append(
            {
                "figure": f"gateway req/s, batch 1, {clients} client(s) ({where})",
                "value": rate,
                "baseline": direct_rate,
                "baseline_name": f"direct Triton gRPC, {clients} client(s)",
                "target": target,
            }
        )
    return rows


def _bench(state: str, data_dir: Path) -> list[dict]:
    """Both modes on one data folder: ``mlops serve`` with its Triton, then the split gateway on that Triton."""
    from mlops_assets.core import domain as d
    from mlops_assets.features.feature_definitions import FEATURE_SERVICE
    from mlops_assets.serving.routing import Routing
    from resources.feast_store import FeastResource
    from resources.polling import wait_until
    from tests.mlops_serve import start_mlops_serve

    ids = _entity_ids(data_dir)
    routing = Routing.load(data_dir / "serving" / "routing.json")
    arms = "champion + challenger" if routing.challenger_version else "champion only"
    state = f"{state} ({arms})"
    feast = FeastResource(
        repo_path=str(data_dir / "feast"),
        source_path=str(data_dir / "lake" / "features" / "customer_snapshots.parquet"),
        registry=str(data_dir / "feast" / "registry.db"),
        sqlite_path=str(data_dir / "feast" / "online_store.db"),
    ).store()
    frame = feast.get_online_features(
        features=feast.get_feature_service(FEATURE_SERVICE), entity_rows=[{d.ENTITY: i} for i in ids[:64]]
    ).to_df()
    matrix = np.ascontiguousarray(d.encode(frame), dtype=np.float32)
    rows: list[dict] = []
    stack, port = start_mlops_serve(data_dir)
    try:
        endpoint_path = data_dir / "serving" / "endpoint.json"
        wait_until(endpoint_path.exists, 30, 0.1, f"{endpoint_path}, written just after the gateway answers")
        endpoint = json.loads(endpoint_path.read_text())
        triton = _triton_scorer(endpoint["triton_grpc"], str(routing.champion_version))
        rows += _rows(state, "mlops serve", port, ids, triton, matrix)
        split, split_port = start_mlops_serve(data_dir, "--triton-grpc", endpoint["triton_grpc"])
        try:
            rows += _rows(state, "mlops serve --triton-grpc", split_port, ids, triton, matrix)
        finally:
            split.terminate()
            split.wait(30)
    finally:
        stack.terminate()
        stack.wait(60)
    return rows


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows += _bench("demo state", _demo_state(root))
        rows += _bench("bench state", _bench_state(root))
    return rows
