"""How a training dataset is split, in a module of its own so that config classes can take its defaults.

``DatasetConfig`` (the Launchpad's fields) reads its defaults from here; importing this must not pull in
pandas, because the Dagster ``Definitions`` load every config class.
"""

from __future__ import annotations

from dataclasses import dataclass


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
