"""Drift engine figures next to Evidently and NannyML, measured in one run on the same parquet files.

(a) 50k-row reference x 5k-row window x 7 columns (3 string categories), in process: our profile +
    compare vs Evidently's ``DataDriftPreset`` run (and NannyML's fit + calculate); then end to end, one
    process each (start-up, imports, reading the files, the comparison).
(b) ten 5k-row windows (the last three shifted) against one 50k reference: a saved profile loaded and
    ten compares in process (and, stricter, profile + ten compares), and ``mlops drift --profile P
    --current c1 ... --current c10`` in one process, vs NannyML's ``UnivariateDriftCalculator`` fit +
    calculate over the same ten chunks, with its default methods (Jensen-Shannon) and with the tests we run
    (KS + Wasserstein, chi-square + Jensen-Shannon); and ten ``mlops drift --reference`` processes.
(c) 1M x 1M rows x 25 columns (20 numeric, 5 string categories), end to end (read, profile, compare, exit):
    ``mlops drift --reference --current`` vs a script that reads the same files and runs Evidently's preset,
    with the peak RSS of each process.

Competitors run in their own processes (``python -m bench.drift_bench <tool> ...``) from this virtual
environment, where ``make bench-setup`` installs the ``bench`` extra (it resolves without changing any
version in requirements.lock); without it their rows say "not installed" and ours are still measured.
In-process figures are medians of ``BENCH_DRIFT_REPEATS`` runs after one warm-up, competitors' alike, ours
taken before and after theirs; one-process figures are medians of three processes (Evidently at 1M rows:
one). ``BENCH_DRIFT_ROWS`` shrinks (c).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPEATS = int(os.environ.get("BENCH_DRIFT_REPEATS", 7))
BIG_ROWS = int(os.environ.get("BENCH_DRIFT_ROWS", 1_000_000))
QUIET = {"NML_DISABLE_USAGE_LOGGING": "1", "DO_NOT_TRACK": "1"}  # competitors' telemetry stays off
NANNYML_TESTS = {
    "continuous_methods": ["kolmogorov_smirnov", "wasserstein"],
    "categorical_methods": ["chi2", "jensen_shannon"],
}


def _seven(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "monthly_charges": rng.normal(70 + 10 * shift, 20, rows),
            "tenure_months": rng.exponential(24, rows),
            "sessions_30d": rng.poisson(12, rows).astype(np.int64),
            "data_usage_gb": rng.lognormal(2, 0.5, rows),
            "plan": rng.choice(["basic", "standard", "premium"], rows, p=[0.5, 0.3, 0.2]),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "payment_method": rng.choice(["card", "bank", "paypal", "invoice"], rows, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def _twenty_five(rows: int, seed: int, shift: float) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {f"num_{i:02d}": rng.normal(shift * (i % 3 == 0), 1 + i / 20, rows) for i in range(20)}
    labels = np.array([f"c{k}" for k in range(8)], dtype=object)
    return pd.DataFrame(data | {f"cat_{j}": rng.choice(labels, rows) for j in range(5)})


def _write_files(root: Path) -> dict:
    files = {
        "reference": root / "reference.parquet",
        "window": root / "window.parquet",
        "chunks": [root / f"chunk-{i}.parquet" for i in range(10)],
        "big_reference": root / "big-reference.parquet",
        "big_current": root / "big-current.parquet",
    }
    _seven(50_000, 1).to_parquet(files["reference"])
    _seven(5_000, 2).to_parquet(files["window"])
    for i, path in enumerate(files["chunks"]):
        _seven(5_000, 10 + i, shift=0.3 * (i >= 7)).to_parquet(path)  # the last three chunks drift
    _twenty_five(BIG_ROWS, 1, 0.0).to_parquet(files["big_reference"])
    _twenty_five(BIG_ROWS, 2, 0.05).to_parquet(files["big_current"])
    return files


def _timed(call: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls after one warm-up (no warm-up, one call, when ``repeats`` is 0)."""
    if repeats:
        call()
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


# --- competitors: `python -m bench.drift_bench evidently REF CUR N` / `... nannyml REF N METHODS CHUNK...` -----


def _evidently(reference: str, current: str, repeats: str) -> list[float]:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    return _timed(lambda: Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref), int(repeats))


def _nannyml(reference: str, repeats: str, methods: str, *chunks: str) -> list[float]:
    import nannyml as nml
    import pandas as pd

    ref = pd.read_parquet(reference)
    analysis = pd.concat([pd.read_parquet(c) for c in chunks], ignore_index=True)
    options = NANNYML_TESTS if methods == "tests" else {}

    def fit_and_calculate() -> None:
        calculator = nml.UnivariateDriftCalculator(column_names=list(ref.columns), chunk_size=5_000, **options)
        calculator.fit(ref)
        calculator.calculate(analysis)

    return _timed(fit_and_calculate, int(repeats))


def _competitor_python(module: str) -> str | None:
    """This interpreter if ``module`` is installed in it (``make bench-setup``), else None."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return sys.executable if subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0 else None


def _run(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of one process; exit 1 (drift found) is a result, not a failure."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **QUIET}, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err.read()[-2000:]}")
        return wall, usage.ru_maxrss / 1024, out.read()


def _competitor(tool: str, *args: object) -> dict | None:
    """``{"seconds": [...], "wall": s, "rss": MiB}`` of one competitor process, or None when it is not installed."""
    python = _competitor_python(tool)
    if python is None:
        return None
    wall, rss, out = _run([python, "-m", "bench.drift_bench", tool, *map(str, args)])
    return {"seconds": json.loads(out.strip().splitlines()[-1]), "wall": wall, "rss": rss}


# --- ours -----------------------------------------------------------------------------------------------------


def _mlops(*args: object) -> list[str]:
    return [str(Path(sys.executable).with_name("mlops")), "drift", *map(str, args)]


def _ends(cmd: list[str], runs: int = 3) -> tuple[float, float, str]:
    """Median wall, largest peak RSS and the last stdout of ``runs`` processes."""
    results = [_run(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def _row(figure: str, value: float, other: dict | None, key: str, name: str, target: str = "-") -> dict:
    """Ours against a competitor's median in-process ``seconds``, or its process's ``wall``/``rss``."""
    if other is None:
        baseline, name = float("nan"), f"{name}: not installed"
    else:
        baseline = statistics.median(other["seconds"]) if key == "seconds" else other[key]
    return {"figure": figure, "value": value, "baseline": baseline, "baseline_name": name, "target": target}


def _bracketed(ours: Callable[[], object], competitors: Callable[[], list]) -> tuple[float, list]:
    """Median of our in-process runs taken before and after the competitors' processes, and their results.

    Other work on the machine comes and goes during a run: timing ours on both sides of theirs keeps the two
    in the same conditions.
    """
    before = _timed(ours, REPEATS)
    results = competitors()
    return statistics.median(before + _timed(ours, REPEATS)), results


def _pair(files: dict) -> list[dict]:
    """(a) one 5k window against a 50k reference."""
    import pandas as pd

    from mlops_assets.monitoring.drift_profile import ReferenceProfile

    ref, cur = files["reference"], files["window"]
    reference, window = pd.read_parquet(ref), pd.read_parquet(cur)
    ours, (evidently, nannyml) = _bracketed(
        lambda: ReferenceProfile.from_frame(reference).compare(window),
        lambda: [_competitor("evidently", ref, cur, REPEATS), _competitor("nannyml", ref, REPEATS, "default", cur)],
    )
    cli, _, _ = _ends(_mlops("--reference", ref, "--current", cur))
    evidently_process = _competitor("evidently", ref, cur, 0)
    label = "drift 50k x 5k x 7"
    return [
        _row(
            f"{label}: profile + compare (s)",
            ours,
            evidently,
            "seconds",
            "Evidently preset, in process",
            "ratio <= 0.5",
        ),
        _row(f"{label}: profile + compare (s)", ours, nannyml, "seconds", "NannyML fit + calculate, in process"),
        _row(f"{label}: mlops drift, one process (s)", cli, evidently_process, "wall", "Evidently script, one process"),
    ]


def _chunks(files: dict, root: Path) -> list[dict]:
    """(b) ten 5k windows against one profile of the 50k reference."""
    import pandas as pd

    from mlops_assets.monitoring.drift_profile import ReferenceProfile

    ref, chunks = files["reference"], files["chunks"]
    reference, windows = pd.read_parquet(ref), [pd.read_parquet(c) for c in chunks]
    saved = ReferenceProfile.from_frame(reference).save(root / "reference.profile")

    def reuse() -> None:
        profile = ReferenceProfile.load(saved)
        for window in windows:
            profile.compare(window)

    def rebuild() -> None:
        profile = ReferenceProfile.from_frame(reference)
        for window in windows:
            profile.compare(window)

    reused, (default, tests) = _bracketed(
        reuse,
        lambda: [_competitor("nannyml", ref, REPEATS, methods, *chunks) for methods in ("default", "tests")],
    )
    rebuilt = statistics.median(_timed(rebuild, REPEATS))
    windows_args = [arg for chunk in chunks for arg in ("--current", chunk)]
    cli, _, out = _ends(_mlops("--profile", saved, *windows_args))
    separate = sum(_run(_mlops("--reference", ref, "--current", chunk))[0] for chunk in chunks)
    process = _competitor("nannyml", ref, 0, "default", *chunks)
    label = "drift 10 x 5k vs 50k x 7"
    return [
        _row(
            f"{label}: saved profile, 10 compares (s)",
            reused,
            default,
            "seconds",
            "NannyML fit + calculate (JS)",
            "ratio < 1",
        ),
        _row(
            f"{label}: saved profile, 10 compares (s)",
            reused,
            tests,
            "seconds",
            "NannyML KS+Wasserstein/chi2+JS",
            "ratio < 1",
        ),
        _row(
            f"{label}: profile + 10 compares (s)",
            rebuilt,
            default,
            "seconds",
            "NannyML fit + calculate (JS)",
            "ratio < 1",
        ),
        _row(f"{label}: mlops drift --profile (s)", cli, process, "wall", "NannyML script, one process"),
        {
            "figure": f"{label}: mlops drift --profile (s)",
            "value": cli,
            "baseline": separate,
            "baseline_name": "ten mlops drift --reference processes",
            "target": "-",
        },
        {
            "figure": f"{label}: windows flagged (3 shifted)",
            "value": sum(report["dataset"]["drifted"] for report in json.loads(out)),
            "baseline": 3,
            "baseline_name": "shifted windows",
            "target": "3",
        },
    ]


def _big(files: dict) -> list[dict]:
    """(c) 1M x 1M rows x 25 columns, end to end."""
    wall, rss, out = _ends(_mlops("--reference", files["big_reference"], "--current", files["big_current"]))
    evidently = _competitor("evidently", files["big_reference"], files["big_current"], 0)
    label = f"drift {BIG_ROWS // 1000}k x {BIG_ROWS // 1000}k x 25"
    target = "< 5 s, ratio <= 0.067"
    return [
        _row(
            f"{label}: mlops drift, one process (s)", wall, evidently, "wall", "Evidently script, one process", target
        ),
        _row(f"{label}: peak RSS (MiB)", rss, evidently, "rss", "Evidently script's peak RSS"),
        {
            "figure": f"{label}: columns flagged (7 moved .05 sd)",
            "value": len(json.loads(out)["dataset"]["drifted_columns"]),
            "baseline": 25,
            "baseline_name": "columns",
            "target": "trivial shift: few or none",
        },
    ]


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        files = _write_files(Path(tmp))
        return [*_pair(files), *_chunks(files, Path(tmp)), *_big(files)]


if __name__ == "__main__":
    tool, *arguments = sys.argv[1:]
    seconds = _evidently(*arguments) if tool == "evidently" else _nannyml(*arguments)
    print(json.dumps(seconds))
