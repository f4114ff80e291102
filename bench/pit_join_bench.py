"""Point-in-time join and materialization per Feast offline store at 1x, 10x and 100x the default volume.

1x is the default lifecycle: 21 days x 1,500 events a day, every one labeled, joined point-in-time against
the snapshot table built from the same events (31,500 rows each side), as ``training_dataset`` does it
(``join_dataset``: Feast's ``get_historical_features`` of the feature service, on-demand ratios, the
missing-snapshot check and the dtypes). 10x and 100x multiply the rows a day. Days come from the real
generator with a population of max(20,000, 4/3 x rows a day): 1x and 10x draw from today's 20,000
customers, and 100x keeps 10x's density (a customer emits a snapshot on 3 days of 4) where the old cap
stopped.

Stores: ``file`` (Feast's dask store, the old default and the baseline, measured in the same run),
``duckdb`` (Feast's ibis-based DuckDB store) and ``spark`` (Feast's Spark store in local mode, ``local[2]``,
on a ``SparkSource`` over the same parquet file). Each (store, size) runs the join in its own process,
after a small warm-up join (imports, Spark's JVM start): the median of three when one takes under a
minute, else one. Each size also runs, once and in its own process, what ``online_features`` does:
``materialize_latest``, each customer's latest snapshot within the TTL into a SQLite online store (DuckDB
reads the snapshot file itself, so the figure does not depend on the offline store; it is listed under
the first store of the run). A process is stopped after ``BENCH_PIT_TIMEOUT`` seconds (default 1,200) or
when it and its children (Spark's JVM) hold more than ``BENCH_PIT_MAX_RSS_GB`` (default 12) GiB; its
figure then reads nan and says why. ``BENCH_PIT_SCALES`` (default ``1,10,100``), ``BENCH_PIT_STORES``
(default ``file,duckdb,spark``) and ``BENCH_PIT_TASKS`` (default ``join,materialize``) narrow the run,
e.g. ``BENCH_PIT_STORES=duckdb BENCH_PIT_TASKS=materialize`` for the online store alone. Figures move
with the machine's other load (up to 2x between runs on this shared 2-core machine); the ratios and
growth factors, measured in one run, are what to compare.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAYS, ROWS_PER_DAY = 21, 1_500
SCALES = tuple(int(s) for s in os.environ.get("BENCH_PIT_SCALES", "1,10,100").split(","))
STORES = tuple(os.environ.get("BENCH_PIT_STORES", "file,duckdb,spark").split(","))
TASKS = tuple(os.environ.get("BENCH_PIT_TASKS", "join,materialize").split(","))
TIMEOUT = float(os.environ.get("BENCH_PIT_TIMEOUT", 1_200))
MAX_RSS = float(os.environ.get("BENCH_PIT_MAX_RSS_GB", 12)) * 2**30
RESULT = "PIT_RESULT "


def write_inputs(folder: Path, scale: int) -> int:
    """Write ``events.parquet`` and the snapshot table ``snapshots.parquet``; return the number of events."""
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.ingestion.generator import EPOCH, POPULATION, generate_day

    rows = ROWS_PER_DAY * scale
    population = max(POPULATION, rows * 4 // 3)
    days = [generate_day(EPOCH + dt.timedelta(days=i), rows=rows, population=population) for i in range(DAYS)]
    events = pd.concat(days, ignore_index=True)
    snapshots = events[[d.ENTITY, d.TIMESTAMP, *d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]]
    snapshots.sort_values([d.TIMESTAMP, d.ENTITY]).to_parquet(folder / "snapshots.parquet", index=False)
    events.to_parquet(folder / "events.parquet", index=False)
    return len(events)


def measure(task: str, store: str, folder: Path) -> float:
    """In this process: seconds of ``task`` (``join`` or ``materialize``) through ``store``, after a warm-up.

    ``materialize`` times ``materialize_latest``, the body of the ``online_features`` asset.
    """
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.datasets.assets import join_dataset
    from mlops_assets.datasets.dataset_split import SplitSpec
    from mlops_assets.features.feature_definitions import build_repo
    from mlops_assets.features.online_materialization import materialize_latest
    from resources.feast_store import FeastResource

    repo = folder / f"{store}-{task}"
    feast = FeastResource(
        repo_path=str(repo),
        source_path=str(folder / "snapshots.parquet"),
        registry=str(repo / "registry.db"),
        sqlite_path=str(repo / "online_store.db"),
        offline_store=store,
        spark_conf={"spark.driver.memory": "4g"},
    )
    feast.store().apply(list(build_repo(feast.source_path, store).values()))
    events = pd.read_parquet(folder / "events.parquet")
    as_of, spec = events[d.LABEL_TIMESTAMP].max(), SplitSpec()
    join_dataset(events.sample(n=500, random_state=0), as_of, feast, spec)
    if task == "materialize":
        start = time.perf_counter()
        materialize_latest(feast.store(), feast.source_path)
        return time.perf_counter() - start

    def timed_join() -> float:
        start = time.perf_counter()
        joined = join_dataset(events, as_of, feast, spec)
        assert len(joined) == len(events), (len(joined), len(events))
        return time.perf_counter() - start

    first = timed_join()
    return statistics.median([first, timed_join(), timed_join()]) if first < 60 else first


def _in_child(task: str, store: str, folder: Path) -> tuple[dict[str, float], str]:
    """``measure`` in a fresh process, stopped at the time or memory limit: ({s, GiB} or {GiB}, why not)."""
    import psutil

    command = [sys.executable, "-m", "bench.pit_join_bench", task, store, str(folder)]
    out, log = folder / f"{store}-{task}.out", folder / f"{store}-{task}.log"
    with out.open("w") as stdout, log.open("w") as stderr:
        child = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], stdout=stdout, stderr=stderr)
    process, start, peak, why = psutil.Process(child.pid), time.monotonic(), 0, ""
    while child.poll() is None:
        with contextlib.suppress(psutil.Error):  # a child process may end between listing and reading it
            peak = max(peak, sum(p.memory_info().rss for p in (process, *process.children(recursive=True))))
        if peak > MAX_RSS or time.monotonic() - start > TIMEOUT:
            why = f"stopped at {peak / 2**30:.1f} GiB" if peak > MAX_RSS else f"stopped after {TIMEOUT:.0f} s"
            for p in (*process.children(recursive=True), process):
                p.kill()
            child.wait()
        time.sleep(0.5)
    lines = [line for line in out.read_text().splitlines() if line.startswith(RESULT)]
    if child.returncode and not why:
        print(f"pit_join_bench: {store} {task} failed:\n{log.read_text()[-1_500:]}", file=sys.stderr)
        why = f"failed, exit {child.returncode}"
    seconds = {"s": float(lines[-1][len(RESULT) :])} if lines and not why else {}
    return seconds | {"GiB": peak / 2**30}, why


FIGURES = (
    ("join", "s", "PIT join"),
    ("materialize", "s", "online_features (materialize_latest to SQLite)"),
    ("join", "GiB", "PIT join peak RSS"),
    ("materialize", "GiB", "online_features peak RSS"),
)
"""(task, unit, label); a join's baseline is the file store at that size, online_features' the previous size."""


def _rows(results: dict[tuple[str, str, int], dict[str, float]], notes: dict, events: dict[int, int]) -> list[dict]:
    nan = float("nan")

    def value(task: str, store: str, scale: int, unit: str = "s") -> float:
        return results.get((task, store, scale), {}).get(unit, nan)

    rows = []
    for task, unit, label in FIGURES:
        for previous, scale in zip((None, *SCALES), SCALES, strict=False):
            for store in (s for s in STORES if (task, s, scale) in results):
                note = f" [{notes[task, store, scale]}]" if notes.get((task, store, scale)) else ""
                join = task == "join"
                rows.append(
                    {
                        "figure": f"{label}, {store}, {scale}x ({events[scale]:,} rows) ({unit}){note}",
                        "value": value(task, store, scale, unit),
                        "baseline": value(task, "file", scale, unit) if join else value(task, store, previous, unit),
                        "baseline_name": f"file store, {scale}x" if join else f"{previous}x",
                        "target": "-",
                    }
                )
    for store in STORES if "join" in TASKS else ():
        for low, high in itertools.pairwise(SCALES):
            rows.append(
                {
                    "figure": f"PIT join growth {low}x->{high}x, {store} (x)",
                    "value": value("join", store, high) / value("join", store, low),
                    "baseline": value("join", "file", high) / value("join", "file", low),
                    "baseline_name": "file store's growth",
                    "target": f"<= {1.2 * high / low:g}" if low >= 10 else "-",
                }
            )
    return rows


def run() -> list[dict]:
    results: dict[tuple[str, str, int], dict[str, float]] = {}
    notes: dict[tuple[str, str, int], str] = {}
    events: dict[int, int] = {}
    for scale in SCALES:
        with tempfile.TemporaryDirectory(prefix=f"pit-bench-{scale}x-") as tmp:
            events[scale] = write_inputs(Path(tmp), scale)
            runs = [("join", store) for store in STORES] + [("materialize", STORES[0])]
            for task, store in runs:
                if task in TASKS:
                    key = (task, store, scale)
                    results[key], notes[key] = _in_child(task, store, Path(tmp))
                    print(f"pit_join_bench {scale}x {store} {task}: {results[key]} {notes[key]}", flush=True)
    return _rows(results, notes, events)


if __name__ == "__main__":
    if sys.argv[1:2] in (["join"], ["materialize"]):
        print(RESULT + json.dumps(measure(sys.argv[1], sys.argv[2], Path(sys.argv[3]))), flush=True)
    else:
        for row in run():
            print(f"{row['figure']:<80} {row['value']:>9.3g} {row['baseline']:>9.3g}  {row['target']}")
