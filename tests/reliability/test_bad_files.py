"""Bad files from a user's folder: each class ends in a clear error naming the file and the problem, or in
rows quarantined with a reason; never a crash, never a silently smaller day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.ingestion.folder_source import FolderSourceError, read_folder
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.validation.schema import REASONS, build_schema, split_valid

pytestmark = pytest.mark.reliability
DAY = dt.date(2026, 1, 5)
WINDOW = (pd.Timestamp(DAY, tz="UTC"), pd.Timestamp(DAY, tz="UTC") + pd.Timedelta(days=1))


def _day(rows: int = 40) -> pd.DataFrame:
    return generate_day(DAY, rows=rows)


def _with(column: str, row: int, value: object) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        frame = _day()
        frame[column] = frame[column].astype(object)
        frame.at[row, column] = value
        frame.to_csv(folder / "export.csv", index=False)

    return write


def _csv(frame_fn: Callable[[pd.DataFrame], pd.DataFrame], name: str = "export.csv", **kwargs) -> Callable:
    def write(folder: Path) -> None:
        frame_fn(_day()).to_csv(folder / name, index=False, **kwargs)

    return write


def _raw(name: str, data: bytes) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return write


def _latin1(folder: Path) -> None:
    text = _day().assign(region="Zürich-Nord").to_csv(index=False)
    (folder / "latin.csv").write_bytes(text.encode("latin-1"))


def _two_files_same_key(folder: Path) -> None:
    frame = _day()
    frame.to_csv(folder / "a.csv", index=False)
    frame.head(1).to_csv(folder / "b.csv", index=False)


def _shuffled_over_files(folder: Path) -> None:
    frame = _day().sample(frac=1.0, random_state=3)
    frame.iloc[:20].to_csv(folder / "late.csv", index=False)
    frame.iloc[20:].to_csv(folder / "early.csv", index=False)


def _offsets(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = pd.to_datetime(frame[d.TIMESTAMP]).dt.tz_convert("Europe/Berlin")
    return frame.assign(**{d.TIMESTAMP: stamps.map(lambda t: t.isoformat())})


ERRORS = [
    pytest.param(_latin1, ["latin.csv", "utf-8"], id="wrong-encoding"),
    pytest.param(_raw("empty.csv", b""), ["cannot read empty.csv"], id="empty-file"),
    pytest.param(
        _raw("broken.parquet", b"PAR1 this is not parquet"), ["cannot read broken.parquet"], id="corrupt-parquet"
    ),
    pytest.param(_csv(lambda f: f, sep=";"), ["no 'event_timestamp' column"], id="wrong-delimiter"),
    pytest.param(
        _csv(lambda f: f.rename(columns={d.TIMESTAMP: "ts"})), ["column_mapping"], id="unmapped-timestamp-name"
    ),
    pytest.param(
        _with(d.TIMESTAMP, 5, "last tuesday"),
        ["no readable event_timestamp", "export.csv (1 rows)", "last tuesday"],
        id="unreadable-timestamp",
    ),
    pytest.param(_raw("notes.txt", b"hello"), ["holds no .parquet or .csv files"], id="no-data-files"),
]


@pytest.mark.parametrize(("write", "phrases"), ERRORS)
def test_an_unreadable_folder_is_refused_with_a_message_naming_file_and_problem(tmp_path, write, phrases):
    write(tmp_path)
    with pytest.raises(FolderSourceError) as error:
        read_folder(tmp_path, WINDOW)
    for phrase in phrases:
        assert phrase in str(error.value)


QUARANTINED = [
    pytest.param(_csv(lambda f: f.drop(columns=["plan"])), "missing column 'plan'", 40, id="missing-feature-column"),
    pytest.param(_csv(lambda f: f.assign(crm_note="x")), "unexpected column 'crm_note'", 40, id="extra-column"),
    pytest.param(_with("monthly_charges", 2, "84,69"), "coerce_dtype('float64') (got '84,69')", 1, id="decimal-comma"),
    pytest.param(
        _with("sessions_30d", 2, "yes"), "coerce_dtype('float64') (got 'yes')", 1, id="boolean-text-in-number"
    ),
    pytest.param(_with("monthly_charges", 2, np.inf), "in_range(0, 500) (got inf)", 1, id="infinite-value"),
    pytest.param(_with("plan", 2, "p" * 10_000), "10002 chars", 1, id="huge-string"),
    pytest.param(
        _csv(lambda f: f.assign(sessions_30d=np.nan)), "sessions_30d: not_nullable", 40, id="all-empty-column"
    ),
    pytest.param(_with(d.ENTITY, 2, -4), "greater_than_or_equal_to(0)", 1, id="negative-entity-id"),
    pytest.param(_two_files_same_key, "multiple_fields_uniqueness", 1, id="same-key-in-two-files"),
]


@pytest.mark.parametrize(("write", "reason", "rejected"), QUARANTINED)
def test_bad_rows_are_quarantined_with_their_reason_and_nothing_is_lost(tmp_path, write, reason, rejected):
    write(tmp_path)
    rows = read_folder(tmp_path, WINDOW)
    outcome = split_valid(rows, build_schema(WINDOW))
    assert len(outcome.valid) + len(outcome.quarantined) == len(rows)
    assert len(outcome.quarantined) == rejected
    assert all(reason in r for r in outcome.quarantined[REASONS]), outcome.quarantined[REASONS].head(2).tolist()
    assert outcome.quarantined[REASONS].str.len().max() < 300, "a reason must stay readable"


ACCEPTED = [
    pytest.param(_csv(_offsets), 40, id="timestamps-with-utc-offsets"),
    pytest.param(_shuffled_over_files, 40, id="rows-out-of-order-across-files"),
    pytest.param(_csv(lambda f: f.head(0)), 0, id="header-only-file"),
]


@pytest.mark.parametrize(("write", "rows"), ACCEPTED)
def test_well_formed_oddities_are_read_in_full(tmp_path, write, rows):
    write(tmp_path)
    frame = read_folder(tmp_path, WINDOW)
    outcome = split_valid(frame, build_schema(WINDOW))
    assert len(frame) == rows and len(outcome.valid) == rows and outcome.quarantined.empty
