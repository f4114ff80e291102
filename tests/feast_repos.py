"""A Feast repo over a snapshot file on a chosen offline store, for the point-in-time and Spark tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_assets.features.feature_definitions import build_repo
from resources.feast_store import FeastResource


def feast_in(root: Path, source: Path, offline_store: str, **settings: Any) -> FeastResource:
    """A Feast repo in ``root`` over the snapshot file ``source``, with the repo's objects applied.

    ``settings`` are further ``FeastResource`` fields (the Spark session's, in the Spark offline-store test).
    """
    feast = FeastResource(
        repo_path=str(root / "repo"),
        source_path=str(source),
        registry=str(root / "repo" / "registry.db"),
        sqlite_path=str(root / "repo" / "online_store.db"),
        offline_store=offline_store,
        **settings,
    )
    feast.store().apply(list(build_repo(str(source), offline_store).values()))
    return feast
