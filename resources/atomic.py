"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Everything the pipeline writes (parquet tables, model artifacts, manifests) goes through here: the bytes
land in a temporary file in the same directory, are flushed to disk, and only then renamed into place.
A run killed mid-write leaves a stray ``.tmp`` file, never a truncated artifact under the real name.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (same-directory temp file, fsync, rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json(path: str | Path, payload: Any) -> Path:
    return write_bytes(path, json.dumps(payload, indent=2, sort_keys=True, default=str).encode())


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return write_bytes(path, buffer.getvalue())


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())
