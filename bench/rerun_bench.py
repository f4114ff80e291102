"""Cached features: the work a rerun saves. First build vs a rerun with nothing changed vs a rerun after a
feature-definition change (only what depends on it, stopping where the output did not change)."""

from __future__ import annotations

import os
import tempfile
import time

import dagster as dg


def run() -> list[dict]:
    from mlops_assets.definitions import build_definitions
    from mlops_assets.lifecycle_runs import auto_approval, build_downstream, ingest_days
    from mlops_assets.staleness import REFRESHABLE, refresh

    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryDirectory() as home,
        dg.instance_for_test(temp_dir=home) as instance,
    ):
        os.environ["MLOPS_DATA_DIR"] = tmp
        defs = build_definitions("embedded")
        ingest_days(defs, instance, "2026-01-01", "2026-01-14", {"rows_per_day": 1_500}, quiet=True)
        start = time.perf_counter()
        build_downstream(defs, instance, auto_approval(), selection=REFRESHABLE, quiet=True)
        first = time.perf_counter() - start
        start = time.perf_counter()
        unchanged = refresh(defs, instance, REFRESHABLE, auto_approval())
        rerun = time.perf_counter() - start
        key = dg.AssetKey("feature_store_registry")
        changed = dg.Definitions(
            assets=dg.map_asset_specs(
                lambda s: s.replace_attributes(code_version="edited") if s.key == key else s, list(defs.assets)
            ),
            resources=defs.resources,
        )
        start = time.perf_counter()
        edited = refresh(changed, instance, REFRESHABLE, auto_approval())
        partial = time.perf_counter() - start
    total = len(unchanged.fresh)
    return [
        {
            "figure": f"rerun, nothing changed (s; {len(unchanged.materialized)} of {total} assets recomputed)",
            "value": rerun,
            "baseline": first,
            "baseline_name": "first build of the same assets",
            "target": "nothing recomputed",
        },
        {
            "figure": f"rerun after a feature edit (s; {len(edited.materialized)} of {total} recomputed)",
            "value": partial,
            "baseline": first,
            "baseline_name": "first build of the same assets",
            "target": "only dependents",
        },
    ]
