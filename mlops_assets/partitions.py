"""The day partitions shared by ingestion, validation and the daily monitoring reports.

Partitions are *dynamic*: the landing sensor adds a day when its data lands, so the UI shows exactly the
days that exist. A calendar (``DailyPartitionsDefinition``) would list every day since a fixed start date as
"missing" and, under ``AutomationCondition.eager()``, follow only the latest day, while a user's history
arrives in one batch of many old days.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import pandas as pd

# Raw and validated days are ingested in one run per batch (BackfillPolicy.single_run), a beta parameter we
# adopt deliberately: 21 landed days become one run instead of 21. Silence only that notice, nothing else.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

DAYS = dg.DynamicPartitionsDefinition(name="days")
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def day_window(partition_key: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The [start, end) UTC window of a day partition key such as ``2026-01-03``."""
    import pandas as pd

    start = pd.Timestamp(parse_day(partition_key), tz="UTC")
    return start, start + pd.Timedelta(days=1)


def parse_day(partition_key: str) -> dt.date:
    """The date a partition key names; a key that is not an ISO date is refused with what was expected."""
    try:
        return dt.date.fromisoformat(partition_key)
    except ValueError:
        raise ValueError(f"day partition keys are ISO dates such as 2026-01-03, got {partition_key!r}") from None
