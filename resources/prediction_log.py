"""The gateway's prediction log: every prediction, buffered in memory and flushed as parquet chunks.

Chunks are written atomically (a reader lists only complete files), so the monitoring assets can read
the log while the gateway is writing it. Each record holds the request's entity, the features used, the
model arm and version that answered, the score, latency and whether the fallback served it.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resources import atomic

if TYPE_CHECKING:
    import pandas as pd


class PredictionLog:
    """Append-only log under ``root``; ``flush_every`` records or an explicit ``flush()`` write a chunk."""

    def __init__(self, root: str | Path, flush_every: int = 2_000) -> None:
        self.root = Path(root)
        self.flush_every = flush_every
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._buffer.append(record)
            full = len(self._buffer) >= self.flush_every
        if full:
            self.flush()

    def extend(self, records: list[dict[str, Any]]) -> None:
        with self._lock:
            self._buffer.extend(records)
            full = len(self._buffer) >= self.flush_every
        if full:
            self.flush()

    def flush(self) -> Path | None:
        """Write buffered records as one parquet chunk; returns its path (None when empty)."""
        import pandas as pd

        with self._lock:
            records, self._buffer = self._buffer, []
        if not records:
            return None
        now = dt.datetime.now(dt.UTC)
        path = self.root / f"date={now:%Y-%m-%d}" / f"chunk-{now:%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"
        return atomic.write_parquet(path, pd.DataFrame.from_records(records))

    def read(self) -> pd.DataFrame:
        """Every flushed record (in-memory, unflushed records are not visible to readers)."""
        import pandas as pd

        chunks = sorted(self.root.glob("date=*/chunk-*.parquet"))
        if not chunks:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(p) for p in chunks], ignore_index=True)

    def arm_counts(self, salt: str) -> dict[str, int]:
        """Requests each arm served under routing ``salt`` (only the two columns are read)."""
        import pyarrow.dataset as ds

        chunks = sorted(self.root.glob("date=*/chunk-*.parquet"))
        if not chunks:
            return {}
        table = ds.dataset([str(p) for p in chunks], format="parquet").to_table(
            columns=["arm"], filter=ds.field("salt") == salt
        )
        arms = table.column("arm").value_counts().to_pylist()
        return {str(row["values"]): int(row["counts"]) for row in arms}
