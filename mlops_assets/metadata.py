"""Metadata builders shared by the assets, so every table shows rows and schema the same way in the UI."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import pandas as pd

OWNERS = ["team:ml-platform"]


def table_metadata(frame: pd.DataFrame, preview_rows: int = 5) -> dict[str, object]:
    """``dagster/row_count``, ``dagster/column_schema`` and a short preview."""
    schema = dg.TableSchema(columns=[dg.TableColumn(str(c), str(t)) for c, t in frame.dtypes.items()])
    meta: dict[str, object] = {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": schema,
    }
    if len(frame):
        meta["preview"] = dg.MetadataValue.md(frame.head(preview_rows).to_markdown(index=False))
    return meta


def png_markdown(title: str, png: bytes) -> dg.MetadataValue:
    """An inline image the Dagster UI renders in the asset's metadata panel."""
    encoded = base64.b64encode(png).decode()
    return dg.MetadataValue.md(f"### {title}\n![{title}](data:image/png;base64,{encoded})")
