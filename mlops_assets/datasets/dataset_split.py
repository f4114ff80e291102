"""Train / validation / out-of-time split and the content hash that versions a training dataset.

The out-of-time test set is the newest days: it is what the model will face in production, so a model
that only memorised the past shows it there. The hash is computed from the table's content (not from a
file's bytes, which embed library versions), so the same rows always give the same dataset version.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from mlops_assets.core import domain as d
from mlops_assets.datasets.split_spec import SplitSpec

__all__ = ["SPLIT", "SplitSpec", "assign_splits", "canonical", "content_hash"]

SPLIT = "split"


def assign_splits(frame: pd.DataFrame, spec: SplitSpec) -> pd.Series:
    """Label every row ``train``, ``validation`` or ``oot_test`` (the last ``oot_days`` days)."""
    days = frame[d.TIMESTAMP].dt.floor("D")
    cutoff = days.max() - pd.Timedelta(days=spec.oot_days - 1)
    if (days < cutoff).sum() == 0:
        raise ValueError(f"only {days.nunique()} labeled day(s): need more than oot_days={spec.oot_days}")
    rng = np.random.default_rng(spec.seed)
    labels = np.where(rng.random(len(frame)) < spec.validation_fraction, "validation", "train")
    labels = np.where(days >= cutoff, "oot_test", labels)
    return pd.Series(labels, index=frame.index, name=SPLIT)


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order with columns sorted, so equal content hashes equally."""
    return frame.sort_values([d.TIMESTAMP, d.ENTITY]).reset_index(drop=True)[sorted(frame.columns)]


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 over the canonical table's values and column names."""
    table = canonical(frame)
    digest = hashlib.sha256(",".join(map(str, table.columns)).encode())
    digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return digest.hexdigest()
