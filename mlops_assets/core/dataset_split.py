"""Train / validation / out-of-time split and the content hash that versions a training dataset.

The out-of-time test set is the newest days: it is what the model will face in production, so a model
that only memorised the past shows it there. The hash is computed from the table's content (not from a
file's bytes, which embed library versions), so the same rows always give the same dataset version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_assets.core import domain as d

SPLIT = "split"


@dataclass(frozen=True)
class SplitSpec:
    """How a dataset is split; recorded with the dataset so the split can be reproduced."""

    oot_days: int = 3
    validation_fraction: float = 0.2
    seed: int = 42

    def __post_init__(self) -> None:
        if self.oot_days < 1:
            raise ValueError(f"oot_days must be >= 1, got {self.oot_days}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")


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
