"""Where pipeline data lives: a folder (local disk by default, a shared volume in production).

Tables and artifacts go through this resource rather than an IO manager so that every table has a stable,
documented path a person can open (``raw/2026-01-03.parquet``) and every write is atomic; the small typed
records assets hand on (manifest, model record, evaluation) go through ``record_io_manager``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from resources import atomic

if TYPE_CHECKING:
    import pandas as pd


class LakeResource(dg.ConfigurableResource):
    """The project's data folder; ``root`` comes from ``MLOPS_DATA_DIR`` or the profile."""

    root: str

    def path(self, *parts: str) -> Path:
        return Path(self.root).joinpath(*parts)

    def exists(self, *parts: str) -> bool:
        return self.path(*parts).exists()

    def write_parquet(self, frame: pd.DataFrame, *parts: str) -> Path:
        return atomic.write_parquet(self.path(*parts), frame)

    def read_parquet(self, *parts: str) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self._written(*parts))

    def write_json(self, payload: Any, *parts: str) -> Path:
        return atomic.write_json(self.path(*parts), payload)

    def read_json(self, *parts: str) -> Any:
        return atomic.read_json(self._written(*parts))

    def _written(self, *parts: str) -> Path:
        """The path of ``parts``, which the asset that writes it must have materialized before it is read."""
        path = self.path(*parts)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: materialize the asset that writes it first")
        return path

    def write_bytes(self, data: bytes, *parts: str) -> Path:
        return atomic.write_bytes(self.path(*parts), data)
