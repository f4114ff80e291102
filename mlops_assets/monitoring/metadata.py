"""What the monitoring reports show in the Dagster UI: the verdict first, then compact tables.

Each report's metadata leads with a short markdown headline (verdict, key numbers to four significant
digits, the chart inline), then one table row per column, so the answer is on screen before any detail.
The verdict is also returned as the report's WARN check (``monitoring_checks``), which the sensors act on.
"""

from __future__ import annotations

import dagster as dg

from mlops_assets.metadata import fmt, png_image, records_table, sig
from mlops_assets.monitoring.checks import verdict_check

DRIFT_COLUMNS = {
    "column": "string",
    "drifted": "bool",
    "effect_size": "float",
    "threshold": "float",
    "effect_size_name": "string",
    "test": "string",
    "statistic": "float",
    "p_value_adjusted": "float",
    "rows_current": "int",
    "unseen_share": "float",
}


def leading(headline: str) -> dict[str, dg.MetadataValue]:
    """``summary`` (the headline's first sentence as plain text) then ``verdict`` (the whole markdown).

    The Dagster UI shows text metadata inline but folds markdown behind "[Show Markdown]", so the verdict's
    first line is also given as text: the answer is readable on the asset page without a click.
    """
    first = headline.split("\n", 1)[0].replace("**", "").strip()
    return {"summary": dg.MetadataValue.text(first), "verdict": dg.MetadataValue.md(headline)}


def by_strength(columns: list[dict]) -> list[dict]:
    """Drifted columns first, each group by effect size relative to its threshold, largest first."""
    return sorted(columns, key=lambda c: (not c["drifted"], -c["effect_size"] / max(c["threshold"], 1e-9)))


def drift_headline(report: dict, notes: list[str]) -> str:
    """The verdict in two or three lines, key numbers to four significant digits, the effect-size chart inline."""
    from mlops_assets.monitoring.drift_plots import effect_size_png

    dataset, columns = report["dataset"], report.get("columns", [])
    ranked = by_strength(columns)
    drifted = [c for c in ranked if c["drifted"]]
    lines = [
        f"**{'Drift' if dataset['drifted'] else 'No drift'}** on {report.get('day', '')} against champion "
        f"v{report.get('champion_version', '')}: {len(drifted)} of {len(columns)} columns drifted "
        f"(share {fmt(dataset.get('share_drifted', 0.0))}, alpha {fmt(dataset.get('alpha'))}, Benjamini-Hochberg)."
    ]
    shown = drifted[:3] or ranked[:1]
    if shown:
        effects = "; ".join(
            f"{c['column']} {fmt(c['effect_size'])} vs threshold {fmt(c['threshold'])}, p (adj.) "
            f"{fmt(c['p_value_adjusted'])}"
            for c in shown
        )
        label = "Strongest" if drifted else "Largest effect (drift needs it above the threshold and p below alpha)"
        lines.append(f"{label}: {effects}.")
    if report.get("untestable"):
        lines.append(f"**Not tested**: {', '.join(c['column'] for c in report['untestable'])}.")
    lines += notes
    text = "\n\n".join(lines)
    if columns:
        text += "\n\n" + png_image("Effect size vs calibrated threshold", effect_size_png(columns))
    return text


def report_result(
    report: dict, extra: dict, check: str, asset: str, notes: list[str] | None = None
) -> dg.MaterializeResult:
    """Metadata that leads with the verdict (`verdict`), then the per-column table, then ``extra``."""
    columns = report.get("columns", [])
    meta = {
        **leading(drift_headline(report, notes or [])),
        "drifted": bool(report["dataset"]["drifted"]),
        "share_drifted": dg.MetadataValue.float(sig(report["dataset"].get("share_drifted", 0.0)) or 0.0),
        "columns": records_table(by_strength(columns), DRIFT_COLUMNS),
        **extra,
    }
    if report.get("untestable"):
        meta["untestable"] = records_table(
            report["untestable"], {"column": "string", "kind": "string", "reason": "string"}
        )
    drifted = [c["column"] for c in columns if c["drifted"]]
    day, version = report.get("day", ""), report.get("champion_version", "")
    verdict = verdict_check(
        check,
        asset,
        failed=bool(report["dataset"]["drifted"]),
        description=(
            f"{day}: drift in {', '.join(drifted)} against champion v{version}"
            if report["dataset"]["drifted"]
            else f"{day}: no drift against champion v{version}"
        ),
        metadata={
            "day": day,
            "champion_version": str(version),
            "drifted_columns": dg.MetadataValue.json(drifted),
            "share_drifted": dg.MetadataValue.float(sig(report["dataset"].get("share_drifted", 0.0)) or 0.0),
        },
    )
    return dg.MaterializeResult(metadata=meta, check_results=[verdict])


def segment_notes(segments: dict[str, dict]) -> list[str]:
    drifted = sorted(s for s, v in segments.items() if v["drifted"])
    if not segments:
        return ["No age band had enough rows to be tested on its own."]
    if not drifted:
        return [f"No age band drifted on its own ({len(segments)} tested)."]
    return [f"Age bands drifted on their own: {', '.join(drifted)} ({len(drifted)} of {len(segments)} tested)."]


def quality_metadata(payload: dict, day: str, version: str) -> dict:
    """The quality verdict first (issues as a list), then one row per column instead of the raw JSON."""
    issues = payload.get("issues", [])
    schema = [
        f"{label}: {', '.join(payload[key])}"
        for key, label in (("missing_columns", "missing columns"), ("extra_columns", "unexpected columns"))
        if payload.get(key)
    ]
    headline = (
        f"**{'Degraded' if issues else 'Within limits'}**: raw day {day} against champion v{version}'s reference, "
        f"{len(issues)} issue(s)" + (":\n\n" + "\n".join(f"- {i}" for i in issues) if issues else ".")
    )
    missing, ranges = payload.get("missing_rate", {}), payload.get("out_of_range_share", {})
    rows = [
        {
            "column": name,
            "missing_rate": missing.get(name, {}).get("current"),
            "reference_missing_rate": missing.get(name, {}).get("reference"),
            "missing_p_value": missing.get(name, {}).get("p_value"),
            "out_of_range_share": ranges.get(name),
            "unseen_categories": payload.get("unseen_categories", {}).get(name),
            "type_change": payload.get("type_changes", {}).get(name),
        }
        for name in sorted(set(missing) | set(ranges))
    ]
    columns = {
        "column": "string",
        "missing_rate": "float",
        "reference_missing_rate": "float",
        "missing_p_value": "float",
        "out_of_range_share": "float",
        "unseen_categories": "string",
        "type_change": "string",
    }
    return {
        **leading("\n\n".join([headline, *schema])),
        "degraded": bool(payload.get("degraded", False)),
        "columns": records_table(rows, columns),
    }
