"""Metadata builders shared by the assets, so every table shows rows, schema and lineage the same way in the UI.

Column descriptions come from the domain module (one place names every column); numbers shown to a person
are rounded to four significant digits, and lists of records are Dagster tables rather than JSON dumps.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    import pandas as pd

SIGNIFICANT_DIGITS = 4


def sig(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """``value`` rounded to ``digits`` significant digits; None and non-finite numbers become None."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(f"{float(value):.{digits}g}")


def fmt(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``value`` as text with ``digits`` significant digits ("n/a" for None or non-finite)."""
    rounded = sig(value, digits)
    return "n/a" if rounded is None else f"{rounded:.{digits}g}"


@cache
def column_descriptions() -> dict[str, str]:
    """What every column of the lifecycle's tables means, for ``dagster/column_schema``."""
    from mlops_assets.core import domain as d

    described = {c.name: c.description for c in (*d.NUMERIC, *d.CATEGORICAL)}
    return {
        d.ENTITY: "Customer id: the join key of the Feast entity `customer`.",
        d.TIMESTAMP: "When the snapshot was taken (UTC): the point in time of the feature join.",
        d.LABEL: "Label: 1 if the customer churned. Known only from `label_available_at` on.",
        d.LABEL_TIMESTAMP: "When the churn label became known (labels arrive days after the event).",
        d.SEGMENT: "Age band: the protected attribute of the fairness reports, deliberately not a model feature.",
        **described,
        **d.DERIVED_DESCRIPTIONS,
    }


@cache
def derived_sources() -> dict[str, tuple[str, ...]]:
    """The numeric columns each derived feature is computed from, read off ``domain.derive`` itself.

    Each input is changed on its own and the outputs that move depend on it, so the lineage follows the
    one definition of the ratios instead of repeating it.
    """
    import pandas as pd

    from mlops_assets.core import domain as d

    base = pd.DataFrame({name: [1.0] for name in d.NUMERIC_NAMES})
    reference = d.derive(base).iloc[0]
    sources: dict[str, list[str]] = {name: [] for name in d.DERIVED}
    for column in d.NUMERIC_NAMES:
        moved = d.derive(base.assign(**{column: 3.0})).iloc[0]
        for name in d.DERIVED:
            if not math.isclose(moved[name], reference[name]):
                sources[name].append(column)
    return {name: tuple(columns) for name, columns in sources.items()}


def column_lineage(deps: Mapping[str, Iterable[tuple[str, str]]]) -> dg.TableColumnLineage:
    """``dagster/column_lineage`` from ``{column: [(upstream asset, upstream column), ...]}``."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=dg.AssetKey(asset), column_name=name) for asset, name in sources]
            for column, sources in deps.items()
            if sources
        }
    )


def same_columns(columns: Iterable[str], upstream: str) -> dict[str, list[tuple[str, str]]]:
    """Each column comes from the column of the same name in ``upstream``."""
    return {str(c): [(upstream, str(c))] for c in columns}


def table_metadata(
    frame: pd.DataFrame,
    preview_rows: int = 5,
    descriptions: Mapping[str, str] | None = None,
    lineage: dg.TableColumnLineage | None = None,
) -> dict[str, object]:
    """`dagster/row_count`, `dagster/column_schema` with descriptions, optional lineage, a short preview."""
    known = {**column_descriptions(), **(descriptions or {})}
    schema = dg.TableSchema(
        columns=[dg.TableColumn(str(c), str(t), description=known.get(str(c))) for c, t in frame.dtypes.items()]
    )
    meta: dict[str, object] = {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": schema,
    }
    if lineage is not None:
        meta["dagster/column_lineage"] = lineage
    if len(frame):
        meta["preview"] = dg.MetadataValue.md(frame.head(preview_rows).to_markdown(index=False))
    return meta


def records_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]) -> dg.MetadataValue:
    """A Dagster table of ``rows``; ``columns`` maps each column to its type (string, int, float, bool).

    Floats are rounded to four significant digits, non-finite numbers shown as empty cells.
    """

    def cell(value: Any, kind: str) -> Any:
        if value is None:
            return None
        if kind == "float":
            return sig(value)
        if kind == "int":
            return int(value)
        if kind == "bool":
            return bool(value)
        return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)

    return dg.MetadataValue.table(
        records=[dg.TableRecord({name: cell(row.get(name), kind) for name, kind in columns.items()}) for row in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns.items()]),
    )


def png_markdown(title: str, png: bytes) -> dg.MetadataValue:
    """An inline image the Dagster UI renders in the asset's metadata panel."""
    return dg.MetadataValue.md(f"### {title}\n{png_image(title, png)}")


def png_image(title: str, png: bytes) -> str:
    """Markdown of an inline PNG (a data URL), to embed in a larger Markdown entry."""
    return f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"
