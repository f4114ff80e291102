"""Run every benchmark and print one table: figure, value, baseline, ratio (value / baseline).

Baselines are measured in the same run on the same machine, so the ratios mean something on any machine;
absolute seconds are printed too, next to the targets from the issues. Results also go to
``bench/results/latest.json`` (git-ignored).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

SUITES = (
    "bench.startup_bench",
    "bench.lifecycle_bench",
    "bench.drift_bench",
    "bench.serving_bench",
    "bench.scale_bench",
    "bench.pit_join_bench",
)


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    rows: list[dict] = []
    for name in SUITES:
        if wanted and name.split(".")[-1] not in wanted:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        rows.extend(module.run())
    print(f"{'figure':<58} {'value':>10} {'baseline':>10} {'ratio':>8}  baseline is / target")
    for row in rows:
        ratio = row["value"] / row["baseline"] if row.get("baseline") else float("nan")
        print(
            f"{row['figure']:<58} {row['value']:>10.4g} {row.get('baseline', float('nan')):>10.4g} {ratio:>8.2f}"
            f"  {row.get('baseline_name', '')} / {row.get('target', '-')}"
        )
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
