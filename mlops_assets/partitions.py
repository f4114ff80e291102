"""The daily partitioning shared by ingestion and validation."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import pandas as pd

# Raw and validated days are backfilled in one run per range (BackfillPolicy.single_run), a beta parameter we
# adopt deliberately: 30 days become one run instead of 30. Silence only that notice, nothing else.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")


def day_window(partition_key: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The [start, end) UTC window of a daily partition key such as ``2026-01-03``."""
    import pandas as pd

    start = pd.Timestamp(dt.date.fromisoformat(partition_key), tz="UTC")
    return start, start + pd.Timedelta(days=1)
