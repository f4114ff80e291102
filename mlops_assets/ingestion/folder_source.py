"""Read a user's own folder of parquet/CSV files as raw churn events, through a column mapping.

Users' exports rarely use our column names, so ``column_mapping`` maps *their* name to *ours*
(``{"cust_id": "customer_id", "ts": "event_timestamp"}``); unmapped columns keep their names. Only rows whose
event timestamp falls inside the requested day are returned, so a folder with many days' exports can feed a
daily-partitioned asset. A missing ``label_available_at`` is filled as event time + ``label_delay_days``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlops_assets.core import domain as d

SUFFIXES = (".parquet", ".csv")
SOURCE_FILE = "__source_file"


class FolderSourceError(ValueError):
    """The folder or its files cannot be read as churn events; the message says which and why."""


def read_folder(
    folder: str | Path,
    window: tuple[pd.Timestamp, pd.Timestamp],
    column_mapping: dict[str, str] | None = None,
    label_delay_days: int = 3,
) -> pd.DataFrame:
    """Return the rows of every parquet/CSV file in ``folder`` whose event timestamp lies in ``window``."""
    root = Path(folder)
    if not root.is_dir():
        raise FolderSourceError(f"source folder {root} does not exist or is not a directory")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in SUFFIXES)
    if not files:
        raise FolderSourceError(f"source folder {root} holds no {' or '.join(SUFFIXES)} files")
    frames = []
    for path in files:
        try:
            frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
        except Exception as exc:
            raise FolderSourceError(f"cannot read {path.name}: {exc}") from exc
        frames.append(frame.rename(columns=column_mapping or {}).assign(**{SOURCE_FILE: path.name}))
    events = pd.concat(frames, ignore_index=True)
    if d.TIMESTAMP not in events.columns:
        raise FolderSourceError(
            f"no {d.TIMESTAMP!r} column after mapping; columns are {sorted(events.columns)[:20]}; "
            f"add e.g. {{'your_time_column': '{d.TIMESTAMP}'}} to column_mapping"
        )
    stamps = pd.to_datetime(events[d.TIMESTAMP], utc=True, errors="coerce", format="mixed")
    unroutable = stamps.isna()
    if unroutable.any():
        # a row without a readable time belongs to no day: refuse the folder rather than drop it unseen
        bad = events.loc[unroutable]
        where = ", ".join(f"{name} ({count} rows)" for name, count in bad[SOURCE_FILE].value_counts().items())
        raise FolderSourceError(
            f"{int(unroutable.sum())} rows have no readable {d.TIMESTAMP} and cannot be routed to a day: {where}; "
            f"examples {bad[d.TIMESTAMP].astype(str).head(3).tolist()}"
        )
    events[d.TIMESTAMP] = stamps
    if d.LABEL_TIMESTAMP not in events.columns:
        events[d.LABEL_TIMESTAMP] = stamps + pd.Timedelta(days=label_delay_days)
    in_day = (stamps >= window[0]) & (stamps < window[1])
    return events.loc[in_day].drop(columns=SOURCE_FILE).reset_index(drop=True)
