"""Start-up figures: what a user waits for before anything runs, each next to a same-run floor.

Every figure is the median wall time of five fresh processes: loading the ``Definitions`` (what the Dagster
webserver, daemon and every run worker do first) against ``import dagster`` alone; ``mlops --help`` and an
``mlops drift`` on a small pair of files (end to end: start-up, imports, reading, profiling, comparing)
against a bare interpreter.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5


def _wall(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(cmd, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return statistics.median(times)


def _small_pair(root: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    for name, shift in (("reference", 0.0), ("current", 0.3)):
        pd.DataFrame(
            {
                "x": rng.normal(shift, 1, 2_000),
                "y": rng.exponential(1, 2_000),
                "plan": rng.choice(["basic", "standard", "premium"], 2_000),
            }
        ).to_parquet(root / f"{name}.parquet")
    return root / "reference.parquet", root / "current.parquet"


def run() -> list[dict]:
    python, mlops = sys.executable, str(Path(sys.executable).with_name("mlops"))
    bare = _wall([python, "-c", "pass"])
    dagster = _wall([python, "-c", "import dagster"])
    definitions = _wall([python, "-c", "from mlops_assets.definitions import defs"])
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        reference, current = _small_pair(Path(tmp))
        drift = _wall([mlops, "drift", "--reference", str(reference), "--current", str(current)])
    return [
        {
            "figure": f"start-up: Definitions load (s, median of {RUNS})",
            "value": definitions,
            "baseline": dagster,
            "baseline_name": "import dagster",
            "target": "< 2 s",
        },
        {
            # what the project adds to every process that loads it (webserver, daemon, each run's worker)
            "figure": "start-up: the project's own cost, Definitions load minus import dagster (s)",
            "value": definitions - dagster,
            "baseline": dagster,
            "baseline_name": "import dagster",
            "target": "< 0.3 s",
        },
        {
            "figure": f"start-up: mlops --help (s, median of {RUNS})",
            "value": _wall([mlops, "--help"]),
            "baseline": bare,
            "baseline_name": "python -c pass",
            "target": "-",
        },
        {
            "figure": f"start-up: mlops drift, 2k x 2k x 3 (s, median of {RUNS})",
            "value": drift,
            "baseline": bare,
            "baseline_name": "python -c pass",
            "target": "-",
        },
    ]
