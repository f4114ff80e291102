"""Records that cross lifecycle stages, stored by Dagster as JSON a person can open.

An asset that returns a pydantic record (the dataset manifest, the model record, the evaluation report,
the registered challenger) has it written atomically to ``<lake root>/records/<asset>.json``; an asset that
takes it as an input gets it back validated into the type the input is annotated with. A job that selects
only a downstream asset (the promotion decision runs ``champion_model`` alone) loads what the last run of
the upstream asset stored. A missing or malformed record fails naming the asset and the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import dagster as dg
from pydantic import BaseModel, ValidationError

from resources import atomic
from resources.storage import LakeResource

RECORD_IO_MANAGER = "record_io_manager"
"""The resource key assets name in ``io_manager_key`` to have their record stored here."""
RECORDS = "records"

R = TypeVar("R", bound=BaseModel)


class RecordError(RuntimeError):
    """A stored record is missing, or does not validate as the type its reader expects."""


def record_path(lake: LakeResource, asset: str) -> Path:
    """Where the record of ``asset`` lives: ``<lake root>/records/<asset>.json``."""
    return lake.path(RECORDS, f"{asset}.json")


def write_record(lake: LakeResource, asset: str, record: BaseModel) -> Path:
    """Store ``record`` as the record of ``asset`` (atomically: a reader sees the old one or the new one)."""
    return atomic.write_json(record_path(lake, asset), record.model_dump(mode="python"))


def read_record(lake: LakeResource, asset: str, model: type[R]) -> R:
    """The record of ``asset``, validated as ``model``; a ``RecordError`` naming the asset and file if not."""
    path = record_path(lake, asset)
    if not path.exists():
        raise RecordError(f"no record of asset {asset!r} at {path}: materialize {asset} first")
    try:
        return model.model_validate(atomic.read_json(path))
    except (ValidationError, ValueError) as exc:
        raise RecordError(f"the record of asset {asset!r} at {path} is not a valid {model.__name__}: {exc}") from exc


def _asset_name(key: dg.AssetKey) -> str:
    return key.to_user_string()


class RecordIOManager(dg.ConfigurableIOManager):
    """Stores an asset's pydantic record as ``records/<asset>.json`` under the lake; loads it typed.

    ``root`` is the lake's root (the profile sets both from the same value).
    """

    root: str

    @property
    def lake(self) -> LakeResource:
        return LakeResource(root=self.root)

    def handle_output(self, context: dg.OutputContext, obj: BaseModel) -> None:
        name = _asset_name(context.asset_key)
        if not isinstance(obj, BaseModel):
            raise RecordError(
                f"asset {name!r} returned a {type(obj).__name__}; the record IO manager stores pydantic records only"
            )
        path = write_record(self.lake, name, obj)
        context.add_output_metadata({"record": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> BaseModel:
        name = _asset_name(context.asset_key)
        model = context.dagster_type.typing_type
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise RecordError(
                f"input {context.name!r} (asset {name!r}) is annotated {model!r}; annotate it with the record's "
                "pydantic type so it can be validated"
            )
        return read_record(self.lake, name, model)
