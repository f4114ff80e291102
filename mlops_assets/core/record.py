"""The base of every record that crosses stages (dataset manifest, model record, evaluation report, ...).

Frozen, so a stage cannot change what an upstream stage handed it; and a field the model does not know is
an error, so a renamed or misspelt field fails where the record is read, naming the field, instead of being
silently dropped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A typed record passed between assets by the record IO manager."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())
