"""The records that cross lifecycle stages survive a trip through JSON, and refuse a renamed or missing field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mlops_assets.datasets.manifest import DatasetManifest
from mlops_assets.datasets.split_spec import SplitSpec
from mlops_assets.evaluation.report import Comparison, EvaluationReport, Fairness, Latency, ModelMetrics, SplitQuality
from mlops_assets.registry.challenger import ChallengerRef
from mlops_assets.training.model_record import ModelRecord


def manifest() -> DatasetManifest:
    return DatasetManifest(
        version="3f2a000000000000",
        sha256="3f2a" + "0" * 60,
        feature_service="churn_model_v1",
        as_of="2026-01-14 23:59:00+00:00",
        days=["2026-01-13", "2026-01-14"],
        rows=100,
        split_counts={"train": 70, "validation": 20, "oot_test": 10},
        split_ratios={"train": 0.7, "validation": 0.2, "oot_test": 0.1},
        split_spec=SplitSpec(oot_days=1),
        filters=["days accepted by validation only"],
        transformations=["Feast point-in-time join of feature service churn_model_v1"],
        label_rate=0.21,
    )


def model_record() -> ModelRecord:
    return ModelRecord(
        sha256="0a1b" + "0" * 60,
        size_bytes=1234,
        format="onnx",
        quantization="none (float32)",
        dataset_version="3f2a000000000000",
        dataset_sha256="3f2a" + "0" * 60,
        params={"learning_rate": 0.05, "seed": 42},
        metrics={"train_roc_auc": 0.8, "oot_test_roc_auc": float("nan")},
        tuning={},
        mlflow_run_id="run-1",
        model_id="m-1",
        model_uri="models:/m-1",
        artifact_uri="file:///tmp/m-1",
        dagster_run_id="dagster-run-1",
        trained_at="2026-01-15T00:00:00+00:00",
    )


def metrics(auc: float) -> ModelMetrics:
    quality = SplitQuality(roc_auc=auc, log_loss=0.4, brier=0.1, accuracy=0.8, positive_rate=0.2, rows=10.0)
    return ModelMetrics(
        validation=quality,
        oot_test=quality,
        fairness=Fairness(demographic_parity_difference=0.01, equal_opportunity_difference=0.02, groups=3.0),
        latency=Latency(latency_p50_ms=0.1, latency_p99_ms=0.3),
        segments={"plan": [{"plan": "basic", "roc_auc": auc}], "region": []},
    )


def report(champion_version: str | None = "3") -> EvaluationReport:
    return EvaluationReport(
        model_sha256="0a1b" + "0" * 60,
        report=Comparison(candidate=metrics(0.81), champion=metrics(0.79) if champion_version else None),
        summary={"oot_roc_auc": 0.81},
        champion_version=champion_version,
    )


RECORDS = [
    manifest(),
    model_record(),
    report(),
    report(None),
    ChallengerRef(version="4", sha256="0a1b", evaluation=report()),
]


def _through_json(record: BaseModel) -> dict[str, Any]:
    """What a reader finds on disk: the record as the lake writes it (``json.dumps`` of ``model_dump``)."""
    return json.loads(json.dumps(record.model_dump(), default=str))


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_record_read_back_from_json_equals_the_record_written(record: BaseModel):
    again = type(record).model_validate(_through_json(record))
    assert again.model_dump_json() == record.model_dump_json()


def test_the_manifest_keeps_its_split_spec_typed_for_reproduction():
    assert DatasetManifest.model_validate(_through_json(manifest())).split_spec == SplitSpec(oot_days=1)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_renamed_field_fails_validation_naming_both_names(record: BaseModel):
    payload = _through_json(record)
    field = next(iter(payload))
    payload[field + "_renamed"] = payload.pop(field)
    with pytest.raises(ValidationError) as error:
        type(record).model_validate(payload)
    assert f"{field}\n  Field required" in str(error.value)
    assert f"{field}_renamed\n  Extra inputs are not permitted" in str(error.value)


def test_a_missing_nested_metric_fails_validation_naming_its_path():
    payload = _through_json(report())
    del payload["report"]["candidate"]["oot_test"]["roc_auc"]
    with pytest.raises(ValidationError, match=r"report\.candidate\.oot_test\.roc_auc\n  Field required"):
        EvaluationReport.model_validate(payload)


def test_records_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        model_record().sha256 = "something else"  # type: ignore[misc]


def test_the_candidates_auc_and_a_champions_by_version_number_not_by_label():
    evaluation = report(champion_version="3")
    assert evaluation.candidate_oot_roc_auc == 0.81
    assert evaluation.champion_oot_roc_auc(3) == evaluation.champion_oot_roc_auc("3") == 0.79
    assert evaluation.champion_oot_roc_auc(2) is None, "a champion the candidate was not compared with"
    assert report(champion_version=None).champion_oot_roc_auc(3) is None
    assert list(evaluation.labelled()) == ["candidate", "champion (v3)"]


def test_the_challenger_gives_the_gate_both_models_figures_on_the_same_data():
    challenger = ChallengerRef(version="4", sha256="0a1b", evaluation=report(champion_version="3"))
    assert challenger.gate_metrics("3") == ({"oot_roc_auc": 0.81}, {"oot_roc_auc": 0.79})
    assert challenger.gate_metrics(None) == ({"oot_roc_auc": 0.81}, None)
    assert challenger.gate_metrics("2") == ({"oot_roc_auc": 0.81}, None)
