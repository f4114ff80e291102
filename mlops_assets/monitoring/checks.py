"""The monitoring verdicts as asset checks: their names, what each promises, and how a result is built.

Verdicts a user must see (and the drift sensor acts on) are checks, WARN severity: a drifted day shows as a
failed check on that day's report, next to the report's numbers, not as a metadata entry to be parsed.
"""

from __future__ import annotations

import dagster as dg

DATA_DRIFT_CHECK = "no_data_drift"
PREDICTION_DRIFT_CHECK = "no_prediction_drift"
QUALITY_CHECK = "feature_quality_ok"
CONCEPT_DRIFT_CHECK = "no_concept_drift"


CHECK_DESCRIPTIONS = {
    DATA_DRIFT_CHECK: "The day's features match the champion's training data (BH-corrected, calibrated thresholds).",
    PREDICTION_DRIFT_CHECK: "The day's score distribution matches the champion's scores on its training rows.",
    QUALITY_CHECK: "Missing rates, ranges, categories and schema of the raw day are within the reference's.",
    CONCEPT_DRIFT_CHECK: "The champion's error on labels that arrived after training is not significantly worse.",
}


def check_spec(name: str, asset: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset=asset, description=CHECK_DESCRIPTIONS[name])


def verdict_check(name: str, asset: str, failed: bool, description: str, metadata: dict) -> dg.AssetCheckResult:
    """The report's verdict as a WARN check result; its metadata says which day and which champion."""
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=dg.AssetKey(asset),
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )
