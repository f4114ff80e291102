"""The record IO manager stores an asset's pydantic record as readable JSON and hands it on typed."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from pydantic import BaseModel, ConfigDict

from resources.record_io_manager import RECORD_IO_MANAGER, RecordError, RecordIOManager, read_record, record_path
from resources.storage import LakeResource


class Note(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    score: float


@dg.asset(io_manager_key=RECORD_IO_MANAGER)
def note() -> Note:
    return Note(text="hello", score=0.5)


@dg.asset
def shout(note: Note) -> str:
    assert isinstance(note, Note)
    return note.text.upper()


@pytest.fixture
def lake(tmp_path: Path) -> LakeResource:
    return LakeResource(root=str(tmp_path / "lake"))


def _materialize(
    lake: LakeResource, *assets: dg.AssetsDefinition, selection: str | None = None
) -> dg.ExecuteInProcessResult:
    resources = {"lake": lake, RECORD_IO_MANAGER: RecordIOManager(root=lake.root)}
    return dg.materialize(list(assets), resources=resources, selection=selection, raise_on_error=False)


def test_a_returned_record_is_stored_as_json_under_the_lake_and_loaded_typed_downstream(lake: LakeResource):
    result = _materialize(lake, note, shout)
    assert result.success
    assert result.output_for_node("shout") == "HELLO"
    path = Path(lake.root) / "records" / "note.json"
    assert record_path(lake, "note") == path
    assert json.loads(path.read_text()) == {"score": 0.5, "text": "hello"}
    assert read_record(lake, "note", Note) == Note(text="hello", score=0.5)


def test_a_run_of_the_downstream_asset_alone_loads_the_stored_record(lake: LakeResource):
    assert _materialize(lake, note, shout).success
    alone = _materialize(lake, note, shout, selection="shout")
    assert alone.success and alone.output_for_node("shout") == "HELLO"


def test_a_missing_record_fails_naming_the_asset_and_the_path(lake: LakeResource):
    result = _materialize(lake, note, shout, selection="shout")
    assert not result.success
    error = str(next(e for e in result.all_events if e.is_step_failure).event_specific_data.error)
    assert "no record of asset 'note'" in error and str(record_path(lake, "note")) in error
    with pytest.raises(RecordError, match="materialize note first"):
        read_record(lake, "note", Note)


def test_a_record_with_a_renamed_field_fails_naming_the_asset_the_path_and_the_field(lake: LakeResource):
    path = record_path(lake, "note")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"text": "hello", "points": 0.5}))
    with pytest.raises(RecordError, match=r"record of asset 'note' at .*note\.json is not a valid Note") as error:
        read_record(lake, "note", Note)
    assert "score\n  Field required" in str(error.value)


def test_an_asset_returning_something_other_than_a_record_fails_clearly(lake: LakeResource):
    @dg.asset(name="note", io_manager_key=RECORD_IO_MANAGER)
    def not_a_record() -> dict:
        return {"text": "hello"}

    result = _materialize(lake, not_a_record)
    assert not result.success
    error = str(next(e for e in result.all_events if e.is_step_failure).event_specific_data.error)
    assert "returned a dict" in error and "pydantic records only" in error
