"""``mlops drift``: compare two parquet/CSV files for drift from a shell or a CI job.

Exit codes: 0 when the comparison ran (drift or not), 1 with ``--fail-on-drift`` when drift was found or a
column could not be tested (a gate must not pass on a column it never checked; stderr says why), 2 on bad
input, with a message on stderr naming the file or column that is wrong. JSON output is strict JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROGRESS_ROWS = 1_000_000


def _read(path: str) -> object:
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        if file.suffix.lower() == ".csv":
            return pd.read_csv(file)
        return pd.read_parquet(file)
    except Exception as exc:
        kind = "CSV" if file.suffix.lower() == ".csv" else "parquet"
        raise ValueError(f"{path}: cannot read as {kind}: {exc}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops drift", description="Data drift between two tables.")
    parser.add_argument("--reference", required=True, help="parquet or CSV file: the reference window")
    parser.add_argument("--current", required=True, help="parquet or CSV file: the window to check")
    parser.add_argument("--columns", help="comma-separated columns (default: all shared columns)")
    parser.add_argument("--format", choices=("json", "markdown"), default="json")
    parser.add_argument("--alpha", type=float, default=0.01, help="false-alarm rate after BH correction")
    parser.add_argument(
        "--fail-on-drift", action="store_true", help="exit 1 when drift is found or a column cannot be tested (for CI)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from mlops_assets.core.drift import DriftInputError
    from mlops_assets.core.drift_profile import ReferenceProfile

    try:
        reference, current = _read(args.reference), _read(args.current)
        columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
        if columns is None:
            columns = [c for c in reference.columns if c in current.columns]
        if not columns:
            raise DriftInputError(f"{args.reference} and {args.current} share no column")
        for name, frame in (("reference", reference), ("current", current)):
            absent = [c for c in columns if c not in frame.columns]
            if absent:
                raise DriftInputError(f"{name} file lacks columns {absent}")
        started = time.perf_counter()
        big = len(reference) + len(current) >= PROGRESS_ROWS
        if big:
            print(f"profiling reference ({len(reference):,} rows x {len(columns)} columns)...", file=sys.stderr)
        profile = ReferenceProfile.from_frame(reference, columns)
        if big:
            print(f"testing current ({len(current):,} rows)...", file=sys.stderr)
        report = profile.compare(current, columns, alpha=args.alpha)
        if big:
            print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    except (FileNotFoundError, ValueError) as exc:
        print(f"mlops drift: {exc}", file=sys.stderr)
        return 2
    for column in report.untestable:
        print(f"mlops drift: {column.column!r} not tested: {column.reason}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        print(report.to_markdown())
    return 1 if args.fail_on_drift and (report.drifted or report.untestable) else 0
