"""Materialize only what is out of date: Dagster's staleness (code versions and data versions) as a rerun.

An asset is stale when its code version changed, when an input's data version differs from the one its
last materialization read, or when something upstream is stale; missing assets are stale too. This is
what the Dagster UI shows as "unsynced". ``refresh`` materializes the stale assets whose own upstream is
up to date, then asks again, so a change that leaves an asset's output identical (same data version, e.g.
the training dataset's content hash) stops there: the model is not retrained on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg

MAX_ROUNDS = 12
REFRESHABLE = dg.AssetSelection.groups("features", "datasets", "training", "evaluation", "registry")
"""What ``mlops refresh`` keeps in sync: everything from the features to the champion (not the daily
ingestion, which is partitioned and scheduled, nor deployment, which is a decision)."""


@dataclass
class RefreshReport:
    """What each round materialized, and what stayed fresh."""

    rounds: list[list[str]] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)

    @property
    def materialized(self) -> list[str]:
        return [key for keys in self.rounds for key in keys]


def stale_assets(defs: dg.Definitions, instance: dg.DagsterInstance, selection: dg.AssetSelection) -> set[str]:
    """The selected, unpartitioned assets that are missing or stale, by Dagster's own resolver."""
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.loader import LoadingContextForTest

    graph = defs.resolve_asset_graph()
    keys = selection.resolve(graph)
    resolver = CachingStaleStatusResolver(instance, graph, loading_context=LoadingContextForTest(instance))
    return {
        key.to_user_string()
        for key in keys
        if not graph.get(key).is_partitioned and resolver.get_status(key) != StaleStatus.FRESH
    }


def refresh(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection,
    run_config: dict[str, Any] | None = None,
    quiet: bool = True,
) -> RefreshReport:
    """Rematerialize stale assets round by round, each round only those whose upstream is fresh."""
    from mlops_assets.lifecycle_runs import build_downstream

    graph = defs.resolve_asset_graph()
    report = RefreshReport()
    for _ in range(MAX_ROUNDS):
        stale = stale_assets(defs, instance, selection)
        if not stale:
            break
        roots = sorted(
            key
            for key in stale
            if not any(
                parent.to_user_string() in stale for parent in graph.get(dg.AssetKey.from_user_string(key)).parent_keys
            )
        )
        ops = {k: v for k, v in ((run_config or {}).get("ops") or {}).items() if k in roots}
        build_downstream(
            defs, instance, {"ops": ops} if ops else None, selection=dg.AssetSelection.assets(*roots), quiet=quiet
        )
        report.rounds.append(roots)
    else:
        raise RuntimeError(f"still stale after {MAX_ROUNDS} rounds: {sorted(stale_assets(defs, instance, selection))}")
    selected = {k.to_user_string() for k in selection.resolve(graph) if not graph.get(k).is_partitioned}
    report.fresh = sorted(selected - set(report.materialized))
    return report
