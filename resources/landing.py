"""The landing folder: where a day's raw files arrive, one sub-folder per day (``<root>/2026-01-03/``).

Producers (the bundled generator, a user's export job, a copy from object storage) only write files here;
the landing sensor notices a new or changed day and asks Dagster to ingest it. A day's files are written
under a temporary name and renamed, so the sensor never sees half a file; a day counts as landed once its
folder holds at least one ``.parquet`` or ``.csv`` file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from resources import atomic

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".parquet", ".csv")


class LandingResource(dg.ConfigurableResource):
    """The landing folder; ``root`` comes from the profile (``<data>/landing`` embedded)."""

    root: str

    def folder(self, day: str) -> Path:
        return Path(self.root) / day

    def land(self, day: str, frame: pd.DataFrame, name: str = "events.parquet") -> Path:
        """Write one file of ``day`` atomically (a reader sees it whole or not at all)."""
        return atomic.write_parquet(self.folder(day) / name, frame)

    def landed(self) -> dict[str, str]:
        """Every landed day and a signature of its files (names, sizes, mtimes): a changed day re-ingests."""
        root = Path(self.root)
        if not root.is_dir():
            return {}
        days: dict[str, str] = {}
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
            if files:
                stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
                days[folder.name] = hashlib.sha256(stamp.encode()).hexdigest()[:12]
        return days
