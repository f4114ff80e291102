"""The pandera contract for raw events, and the split of a batch into valid rows and quarantined rows.

Row-level failures (a value out of range, an unknown category, a duplicated key, a missing value) move only
the offending rows to quarantine, each with the checks it failed. Table-level failures (a missing or
unexpected column) make every row suspect, so the whole batch is quarantined with that reason. Either way
``len(valid) + len(quarantined) == len(batch)``: nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from mlops_assets.core import domain as d

REASONS = "rejection_reasons"


def build_schema(window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pa.DataFrameSchema:
    """Return the raw-event schema; ``window`` bounds event timestamps to the partition being validated."""
    ts_checks = [pa.Check.in_range(window[0], window[1], include_max=False)] if window else []
    columns: dict[str, pa.Column] = {
        d.ENTITY: pa.Column(
            "float64", [pa.Check.ge(0), pa.Check(lambda s: s == s.round(), name="integral")], coerce=True
        ),
        d.TIMESTAMP: pa.Column(pd.DatetimeTZDtype(tz="UTC"), ts_checks, coerce=True),
        d.SEGMENT: pa.Column(str, pa.Check.isin(d.SEGMENT_CATEGORIES)),
        d.LABEL: pa.Column("float64", pa.Check.isin([0.0, 1.0]), coerce=True),
        d.LABEL_TIMESTAMP: pa.Column(pd.DatetimeTZDtype(tz="UTC"), coerce=True),
    }
    for num in d.NUMERIC:
        columns[num.name] = pa.Column(
            "float64", pa.Check.in_range(num.low, num.high), nullable=num.nullable, coerce=True
        )
    for cat in d.CATEGORICAL:
        columns[cat.name] = pa.Column(str, pa.Check.isin(cat.categories))
    label_after_event = pa.Check(
        lambda df: df[d.LABEL_TIMESTAMP] >= df[d.TIMESTAMP],
        name="label_not_before_event",
    )
    return pa.DataFrameSchema(
        columns,
        checks=[label_after_event],
        strict=True,
        unique=[d.ENTITY, d.TIMESTAMP],
        report_duplicates="exclude_first",
        name="raw_churn_events",
    )


@dataclass
class ValidationOutcome:
    """Valid rows (typed per the schema), quarantined rows with reasons, and table-level errors."""

    valid: pd.DataFrame
    quarantined: pd.DataFrame
    table_errors: list[str] = field(default_factory=list)
    failure_summary: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def rejection_rate(self) -> float:
        total = len(self.valid) + len(self.quarantined)
        return len(self.quarantined) / total if total else 0.0


MAX_SHOWN = 60


def _shown(value: object) -> str:
    """The offending value as a reason shows it: its repr, cut to ``MAX_SHOWN`` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}... ({len(text)} chars)"


def _summarise(cases: pd.DataFrame) -> pd.DataFrame:
    """One line per (column, check) with a count and up to three example values, for people to read."""
    if cases.empty:
        return pd.DataFrame(columns=["column", "check", "rows", "examples"])
    grouped = cases.assign(column=cases["column"].fillna("<table>")).groupby(["column", "check"], dropna=False)
    return (
        grouped["failure_case"]
        .agg(rows="size", examples=lambda s: ", ".join(map(repr, pd.unique(s.astype(str))[:3])))
        .reset_index()
    )


def _coerce(batch: pd.DataFrame) -> tuple[pd.DataFrame, dict[object, list[str]]]:
    """Parse numeric and timestamp columns row by row; a value that does not parse is a row-level failure.

    pandera's own coercion fails the whole column on one bad value, which would quarantine a whole day for
    one typo; parsing here keeps the blast radius to the rows that are actually wrong.
    """
    frame = batch.copy()
    reasons: dict[object, list[str]] = {}
    for name in (d.ENTITY, *d.NUMERIC_NAMES, d.LABEL):
        if name in frame.columns and not pd.api.types.is_numeric_dtype(frame[name]):
            parsed = pd.to_numeric(frame[name], errors="coerce")
            for index in frame.index[parsed.isna() & frame[name].notna()]:
                reasons.setdefault(index, []).append(
                    f"{name}: coerce_dtype('float64') (got {_shown(frame.at[index, name])})"
                )
            frame[name] = parsed
    for name in (d.TIMESTAMP, d.LABEL_TIMESTAMP):
        if name in frame.columns and not isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            parsed = pd.to_datetime(frame[name], utc=True, errors="coerce")
            for index in frame.index[parsed.isna() & frame[name].notna()]:
                reasons.setdefault(index, []).append(
                    f"{name}: coerce_dtype('datetime64[UTC]') (got {_shown(frame.at[index, name])})"
                )
            frame[name] = parsed
    return frame, reasons


def split_valid(batch: pd.DataFrame, schema: pa.DataFrameSchema | None = None) -> ValidationOutcome:
    """Validate ``batch`` lazily and return what passed, what was quarantined and why."""
    schema = schema or build_schema()
    parsed, reasons = _coerce(batch)
    try:
        valid = schema.validate(parsed.drop(index=list(reasons)), lazy=True)
        cases = pd.DataFrame(columns=["schema_context", "column", "check", "failure_case", "index"])
    except SchemaErrors as err:
        valid, cases = None, err.failure_cases
    parse_cases = pd.DataFrame(
        [
            {"column": r.split(":")[0], "check": "coerce_dtype", "failure_case": r.split("(got ")[-1].rstrip(")")}
            for rs in reasons.values()
            for r in rs
        ],
        columns=["column", "check", "failure_case"],
    )
    summary = _summarise(pd.concat([cases, parse_cases], ignore_index=True) if len(parse_cases) else cases)
    table_cases = cases[cases["index"].isna()]
    if not table_cases.empty:
        errors = [_describe_table_error(c["check"], c["failure_case"]) for _, c in table_cases.iterrows()]
        return ValidationOutcome(
            valid=batch.iloc[0:0].reindex(columns=list(schema.columns)),
            quarantined=_quarantine(batch, dict.fromkeys(batch.index, "; ".join(errors))),
            table_errors=errors,
            failure_summary=summary,
        )
    for _, case in cases.iterrows():
        if case["schema_context"] == "DataFrameSchema" and case["check"] != "multiple_fields_uniqueness":
            reason = f"<row>: {case['check']}"
        else:
            column = case["column"] if isinstance(case["column"], str) else "<row>"
            reason = f"{column}: {case['check']} (got {_shown(case['failure_case'])})"
        if reason not in reasons.setdefault(case["index"], []):
            reasons[case["index"]].append(reason)
    bad = batch.index.isin(list(reasons))
    if valid is None or bad.any():
        valid = schema.validate(parsed.loc[~bad], lazy=True)
    valid = valid.astype({d.ENTITY: "int64", d.LABEL: "int64"})  # exact after the isin / integer checks
    return ValidationOutcome(
        valid=valid,
        quarantined=_quarantine(batch.loc[bad], {k: "; ".join(v) for k, v in reasons.items()}),
        failure_summary=summary,
    )


def _describe_table_error(check: str, case: object) -> str:
    """Phrase pandera's table-level check names the way a data engineer would say them."""
    if check == "column_in_dataframe":
        return f"missing column {case!r} (the schema requires it)"
    if check == "column_in_schema":
        return f"unexpected column {case!r} (not in the schema; map or drop it upstream)"
    return f"{check}: {case}"


def _quarantine(rows: pd.DataFrame, reasons: dict[object, str]) -> pd.DataFrame:
    """Keep quarantined rows as text, so any broken value survives a parquet round trip for inspection."""
    out = rows.astype("string")
    out[REASONS] = [reasons.get(i, "") for i in rows.index]
    return out.reset_index(drop=True)
