"""``mlops demo``: the whole lifecycle once, on the bundled generator, on embedded defaults.

It records its runs in the local ``DAGSTER_HOME``, so ``make dev`` afterwards shows every materialization,
check and metadata plot in the Dagster UI.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field

import dagster as dg

from mlops_assets.dagster_home import ensure_dagster_home
from mlops_assets.lifecycle_runs import auto_approval, build_downstream, ingest_days, monitor_day
from resources.profiles import data_dir, resolved

FIRST_DAY = dt.date(2026, 1, 1)
DRIFT_DAYS = 4


@dataclass
class DemoSummary:
    """What the demo did, for the closing summary."""

    materialized: dict[str, int] = field(default_factory=dict)
    champion_version: str = "none"
    champion_sha256: str = ""
    oot_roc_auc: float = float("nan")
    dataset_version: str = ""
    quarantined_rows: int = 0
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)

    def render(self) -> str:
        rows = "\n".join(f"  {key:<24} {count}" for key, count in sorted(self.materialized.items()))
        return "\n".join(
            [
                "",
                "=== mlops demo: summary ===",
                f"materialized (asset: materializations in this demo):\n{rows}",
                f"dataset version          {self.dataset_version}",
                f"champion model version   {self.champion_version} (sha256 {self.champion_sha256[:16]})",
                f"champion OOT ROC AUC     {self.oot_roc_auc:.4f}",
                f"quarantined rows         {self.quarantined_rows}",
                *self.lines,
                f"took                     {self.seconds:.1f} s",
                "where to look:",
                "  Dagster UI   make dev        -> http://127.0.0.1:3000 (asset graph, checks, metadata, freshness)",
                "  MLflow UI    make mlflow-ui  -> http://127.0.0.1:5000 (runs, registry, aliases)",
                "  gateway      .venv/bin/mlops serve -> http://127.0.0.1:8080/v1/predict, /metrics (Prometheus)",
                "  status       .venv/bin/mlops status",
            ]
        )


TUNED = {"ops": {"trained_model": {"config": {"tuning_trials": 6, "tuning_timeout_s": 60.0}}}}
"""The demo tunes every training with a small Optuna budget (trials are MLflow child runs)."""


def _count(results: list[dg.ExecuteInProcessResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        for event in result.get_asset_materialization_events():
            key = event.asset_key.to_user_string()
            counts[key] = counts.get(key, 0) + 1
    return counts


def _burst(stack: object, entity_ids: list[int], requests: int, batch: int = 20) -> dict[str, float]:
    """Send ``requests`` predictions through the gateway in batches; return latency and fallback figures."""
    import httpx
    import numpy as np

    latencies, fallbacks, served = [], 0, 0
    with httpx.Client(base_url=stack.url, timeout=10) as client:  # type: ignore[attr-defined]
        for i in range(20):  # warm up connections, Feast's registry cache and both Triton instances
            client.post("/v1/predict", json={"entity_ids": [entity_ids[i % len(entity_ids)]]})
        for start in range(0, requests, batch):
            ids = [entity_ids[(start + i) % len(entity_ids)] for i in range(batch)]
            began = time.perf_counter()
            body = client.post("/v1/predict", json={"entity_ids": ids}).raise_for_status().json()
            latencies.append((time.perf_counter() - began) * 1000)
            served += len(body["predictions"])
            fallbacks += sum(p["fallback"] for p in body["predictions"])
    stack.gateway.log.flush()  # type: ignore[attr-defined]
    return {
        "served": served,
        "fallbacks": fallbacks,
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
    }


def _drift(
    defs: dg.Definitions, instance: dg.DagsterInstance, last: dt.date, rows_per_day: int, summary: DemoSummary
) -> list[dg.ExecuteInProcessResult]:
    """Monitor a normal day, inject covariate shift into the next days and monitor those."""
    results = [monitor_day(defs, instance, last.isoformat(), quiet=True)]
    first_drift, last_drift = last + dt.timedelta(days=1), last + dt.timedelta(days=DRIFT_DAYS)
    shift = {"rows_per_day": rows_per_day, "scenario": "covariate_shift"}
    results.append(ingest_days(defs, instance, first_drift.isoformat(), last_drift.isoformat(), shift, quiet=True))
    for offset in range(DRIFT_DAYS):
        results.append(monitor_day(defs, instance, (first_drift + dt.timedelta(days=offset)).isoformat(), quiet=True))
    lake = resolved(defs.resources)["lake"]
    normal = lake.read_json("monitoring", "data_drift", f"{last.isoformat()}.json")["dataset"]
    shifted = lake.read_json("monitoring", "data_drift", f"{first_drift.isoformat()}.json")
    top = sorted((c for c in shifted["columns"] if c["drifted"]), key=lambda c: -c["effect_size"])[:3]
    summary.lines.append(f"drift on {last} (normal)   {normal['share_drifted']:.0%} of columns drifted")
    summary.lines.append(
        f"drift on {first_drift} (shifted) {shifted['dataset']['share_drifted']:.0%} of columns drifted; top: "
        + ", ".join(f"{c['column']} (effect {c['effect_size']:.2f} > {c['threshold']:.2f})" for c in top)
    )
    return results


def _heal(
    defs: dg.Definitions, instance: dg.DagsterInstance, stack: object, ids: list[int], summary: DemoSummary
) -> list[dg.ExecuteInProcessResult]:
    """Ask the drift sensor, run the retrain it requests, canary the challenger on live traffic, decide."""
    from mlops_assets.definitions import RETRAIN_SELECTION
    from sensors.drift import drift_sensor

    context = dg.build_sensor_context(instance=instance, resources=resolved(defs.resources))
    requests = drift_sensor(context).run_requests or []
    summary.lines.append(
        f"drift sensor             requested {len(requests)} retrain(s): "
        + ", ".join(r.run_key or "" for r in requests)
    )
    results = []
    canary = {"ops": {"canary_deployment": {"config": {"challenger_share": 0.3}}, **TUNED["ops"]}}
    for request in requests:
        tags = {**request.tags, "dagster/run_key": request.run_key or "", "dagster/sensor_name": "drift_sensor"}
        results.append(build_downstream(defs, instance, canary, selection=RETRAIN_SELECTION, quiet=True, tags=tags))
    if not requests:
        return results
    traffic = _burst(stack, ids, 2_000)
    summary.lines.append(f"canary traffic           {traffic['served']} predictions, {traffic['fallbacks']} fallbacks")
    rollout = {
        "ops": {
            "production_deployment": {
                "config": {"approved_by": "mlops demo (automatic approval)", "automatic_approval": True}
            }
        }
    }
    decision = build_downstream(
        defs,
        instance,
        rollout,
        quiet=True,
        selection=dg.AssetSelection.assets("production_deployment", "reference_profile"),
    )
    results.append(decision)
    meta = decision.asset_materializations_for_node("production_deployment")[0].metadata
    summary.lines.append(f"canary + promotion gate  {meta['decision'].value}")
    summary.lines += [f"                           {line}" for line in meta["reasons"].value.splitlines()]
    return results


def run_demo(days: int = 21, rows_per_day: int = 1_500, fresh: bool = False) -> DemoSummary:
    """Ingest, train, deploy to a local Triton, serve, inject drift, retrain, canary, decide; summarise."""
    import pandas as pd

    from mlops_assets.definitions import build_definitions
    from mlops_assets.serving.stack import ServingStack

    started = time.perf_counter()
    root = data_dir()
    if fresh and root.exists():
        shutil.rmtree(root)
    ensure_dagster_home(root)
    defs = build_definitions()
    resources = resolved(defs.resources)
    instance = dg.DagsterInstance.get()
    last = FIRST_DAY + dt.timedelta(days=days - 1)
    history = {"rows_per_day": rows_per_day}
    results = [
        ingest_days(defs, instance, FIRST_DAY.isoformat(), last.isoformat(), history, quiet=True),
        build_downstream(defs, instance, {"ops": {**auto_approval()["ops"], **TUNED["ops"]}}, quiet=True),
    ]
    summary = DemoSummary()
    first = resources["registry"].version_by_alias("champion")
    summary.lines.append(f"first champion           v{first.version if first else 'none'}")
    stack = ServingStack(resources["serving"], resources["feast"]).start()
    try:
        ids = pd.read_parquet(resources["feast"].source_path, columns=["customer_id"])["customer_id"].unique().tolist()
        traffic = _burst(stack, ids, 2_000)
        summary.lines.append(
            f"served on Triton         {traffic['served']} predictions in batches of 20, "
            f"p50 {traffic['p50_ms']:.1f} ms, p99 {traffic['p99_ms']:.1f} ms per request, "
            f"{traffic['fallbacks']} fallbacks"
        )
        drift_started = time.perf_counter()
        results += _drift(defs, instance, last, rows_per_day, summary)
        results += _heal(defs, instance, stack, ids, summary)
        summary.lines.append(
            f"drift to decision        {time.perf_counter() - drift_started:.1f} s "
            "(ingest the drifted days, monitor, sensor, retrain, canary on live traffic, decide)"
        )
    finally:
        stack.stop()
    summary.materialized = _count(results)
    champion = resources["registry"].version_by_alias("champion")
    if champion is not None:
        summary.champion_version = str(champion.version)
        summary.champion_sha256 = champion.tags.get("weights.sha256", "")
        summary.oot_roc_auc = float(champion.tags.get("eval.oot_roc_auc", "nan"))
    lake = resources["lake"]
    summary.dataset_version = lake.read_json("datasets", "current.json")["version"]
    summary.quarantined_rows = sum(
        lake.read_json("validated", p.name)["quarantined"] for p in lake.path("validated").glob("*.json")
    )
    summary.seconds = time.perf_counter() - started
    return summary
