"""Scale figures: each lifecycle stage's time and peak RSS at 1x, 10x and 100x of the demo's data.

1x is the demo's default, 21 days of 1,500 rows out of 20,000 customers; 10x and 100x multiply both the
rows per day and the population. Each stage (one asset, or the validation multi-asset) is materialized in
its own process against one Dagster instance and data folder per size, in lineage order, as the daemon runs
them: the stage's time is its step's STEP_START -> STEP_SUCCESS in the Dagster event log, its memory the
process's peak RSS (``os.wait4``'s ``ru_maxrss``, which includes the ~0.5 GB every Dagster process holds
after its imports). A step's time includes the libraries it imports lazily (a few seconds of Feast, MLflow
or scipy), as it does in the daemon's run processes, so small sizes understate the growth. Each row's
baseline is the same stage at the previous size, so the ratio is the growth factor: about 10 for a stage
that scales linearly. Each size's figures are also written to ``bench/results/scale-<factor>x.json`` as
soon as that size is done.

``MLOPS_SCALE_SIZES=1,10`` (or ``python -m bench.run scale_bench`` with it set) picks the sizes; the
default is ``1,10,100``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DAYS = 21
FIRST_DAY, LAST_DAY = "2026-01-01", "2026-01-21"
ROWS_PER_DAY, POPULATION = 1_500, 20_000
"""1x: the demo's default size (``mlops demo``)."""
SIZES_ENV = "MLOPS_SCALE_SIZES"
RETRAIN = {"tuning_trials": 2, "tuning_timeout_s": 600.0}
"""The retrain stage's config: the demo's two Optuna trials per retrain, before the final fit."""

STAGES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("raw_churn_events", ("raw_churn_events",), "range"),
    ("validate_events", ("validated_events", "quarantined_events"), "range"),
    ("customer_feature_table", ("customer_feature_table",), ""),
    ("feature_store_registry", ("feature_store_registry",), ""),
    ("online_features", ("online_features",), ""),
    ("training_dataset", ("training_dataset",), ""),
    ("trained_model", ("trained_model",), ""),
    ("model_evaluation", ("model_evaluation",), ""),
    ("registered_model", ("registered_model",), ""),
    ("champion_model", ("champion_model",), ""),
    ("triton_model_repository", ("triton_model_repository",), ""),
    ("production_deployment", ("canary_deployment", "production_deployment"), ""),
    ("reference_profile", ("reference_profile",), ""),
    ("concept_drift_report", ("concept_drift_report",), ""),
    ("data_drift_report", ("data_drift_report",), "day"),
    ("prediction_drift_report", ("prediction_drift_report",), "day"),
    ("feature_quality_report", ("feature_quality_report",), "day"),
    ("retrain: trained_model, 2 trials", ("trained_model",), "retrain"),
)
"""(stage, the assets its run materializes, how: a day range, one day, a retrain, or unpartitioned)."""


def sizes() -> list[int]:
    """The scale factors to run, from ``MLOPS_SCALE_SIZES`` (default ``1,10,100``)."""
    raw = os.environ.get(SIZES_ENV, "1,10,100")
    try:
        chosen = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"{SIZES_ENV} must be factors such as 1,10,100, got {raw!r}") from None
    if not chosen or min(chosen) < 1:
        raise SystemExit(f"{SIZES_ENV} must name factors of at least 1, got {raw!r}")
    return chosen


def _run_stage(assets: tuple[str, ...], how: str, data_dir: Path, factor: int) -> dict[str, Any]:
    """In the stage's own process: materialize ``assets`` and return each step's seconds from the event log."""
    import dagster as dg

    from mlops_assets.partitions import DAYS as PARTITIONS
    from mlops_assets.partitions import RANGE_END, RANGE_START
    from tests.lifecycle_runs import QUIET, auto_approval, build_downstream
    from tests.lifecycle_state import make_definitions

    defs = make_definitions(data_dir)
    instance = dg.DagsterInstance.get()
    selection = dg.AssetSelection.assets(*assets)
    if how in ("range", "day"):
        first = FIRST_DAY if how == "range" else LAST_DAY
        days = [f"2026-01-{day:02d}" for day in range(int(first[-2:]), int(LAST_DAY[-2:]) + 1)]
        new = [day for day in days if not instance.has_dynamic_partition(PARTITIONS.name, day)]
        instance.add_dynamic_partitions(PARTITIONS.name, new)
        ingestion = {"source": "generator", "rows_per_day": ROWS_PER_DAY * factor, "population": POPULATION * factor}
        ops = {"raw_churn_events": {"config": ingestion}} if "raw_churn_events" in assets else {}
        result = dg.materialize(
            list(defs.assets or []),
            selection=selection,
            instance=instance,
            resources=defs.resources,
            run_config=dg.RunConfig(ops=ops, loggers=QUIET["loggers"]),
            tags={RANGE_START: first, RANGE_END: LAST_DAY} if how == "range" else None,
            partition_key=LAST_DAY if how == "day" else None,
        )
    else:
        config = auto_approval() if "champion_model" in assets else None
        if how == "retrain":
            config = dg.RunConfig(ops={"trained_model": {"config": RETRAIN}})
        result = build_downstream(defs, instance, config, selection=selection, quiet=True)
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    for entry in instance.all_logs(result.run_id, of_type=kinds):
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        else:
            steps[entry.step_key] = entry.timestamp - started[entry.step_key]
    return {"steps": steps}


def _stage_process(stage: str, assets: tuple[str, ...], how: str, data_dir: Path, factor: int, env: dict) -> dict:
    """Run one stage in a fresh process; its step seconds and peak RSS in MB (``wait4``: that child only)."""
    args = json.dumps({"assets": assets, "how": how, "data_dir": str(data_dir), "factor": factor})
    log = data_dir.parent / "stage.log"
    with tempfile.TemporaryFile("w+") as out, log.open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "bench.scale_bench", args], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().strip().splitlines()
    if process.returncode != 0 or not lines:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise RuntimeError(f"stage {stage} at {factor}x failed (exit {process.returncode}):\n{tail}")
    return {**json.loads(lines[-1]), "peak_rss_mb": usage.ru_maxrss / 1024}


def measure(factor: int) -> dict[str, dict[str, float]]:
    """Every stage's seconds and peak RSS at ``factor`` x the demo's size, on a fresh platform."""
    measured: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix=f"scale{factor}x-") as tmp:
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {k: v for k, v in os.environ.items() if k != "MLOPS_PROFILE"} | {"DAGSTER_HOME": str(home)}
        for stage, assets, how in STAGES:
            started = time.perf_counter()
            done = _stage_process(stage, assets, how, Path(tmp) / "data", factor, env)
            seconds = sum(done["steps"].values())
            measured[stage] = {"seconds": seconds, "peak_rss_mb": done["peak_rss_mb"]}
            print(
                f"  {factor:>4}x {stage:<42} {seconds:8.2f} s  {done['peak_rss_mb']:8.0f} MB"
                f"  (process {time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    return measured


def rows_for(results: dict[int, dict[str, dict[str, float]]]) -> list[dict]:
    """bench.run rows: per size and stage, seconds and peak RSS against the previous size (ratio = growth)."""
    rows: list[dict] = []
    factors = sorted(results)
    for at, factor in enumerate(factors):
        previous = factors[at - 1] if at else None
        for stage, _, _ in STAGES:
            for key, unit in (("seconds", "s"), ("peak_rss_mb", "peak RSS, MB")):
                value = results[factor][stage][key]
                baseline = results[previous][stage][key] if previous else float("nan")
                growth = key == "seconds" and stage == "training_dataset" and (previous, factor) == (10, 100)
                rows.append(
                    {
                        "figure": f"{factor}x {stage} ({unit})",
                        "value": value,
                        "baseline": baseline,
                        "baseline_name": f"same stage at {previous}x" if previous else "smallest size run",
                        "target": "<= 12" if growth else "-",
                    }
                )
        total = sum(results[factor][s]["seconds"] for s, _, _ in STAGES)
        rows.append(
            {
                "figure": f"{factor}x all stages, {ROWS_PER_DAY * factor:,} rows/day (s)",
                "value": total,
                "baseline": sum(results[previous][s]["seconds"] for s, _, _ in STAGES) if previous else float("nan"),
                "baseline_name": f"same stages at {previous}x" if previous else "smallest size run",
                "target": "-",
            }
        )
    return rows


def run() -> list[dict]:
    results = {}
    for factor in sizes():
        results[factor] = measure(factor)
        out = Path(__file__).with_name("results") / f"scale-{factor}x.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results[factor], indent=2))
    return rows_for(results)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps(_run_stage(tuple(spec["assets"]), spec["how"], Path(spec["data_dir"]), spec["factor"])))
