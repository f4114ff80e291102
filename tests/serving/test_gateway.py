"""The gateway in front of a real Triton server: correct, split as configured, resilient, strict."""

import contextlib
import threading
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlops_assets.core import domain as d
from mlops_assets.core.traffic import CHALLENGER
from mlops_assets.training.model_artifact import OnnxScorer
from resources.polling import wait_until
from tests.lifecycle_state import feature_row

pytestmark = pytest.mark.slow


def _predict(serving, **body):
    return serving.client.post("/v1/predict", json=body)


def test_gateway_predictions_equal_the_in_process_model_on_the_same_online_features(serving):
    ids = serving.entity_ids[:64]
    body = _predict(serving, entity_ids=ids).json()
    resources = serving.defs.resources
    features = resources["feast"].store()
    from mlops_assets.features.feature_definitions import FEATURE_SERVICE

    frame = pd.DataFrame(
        features.get_online_features(
            features=features.get_feature_service(FEATURE_SERVICE), entity_rows=[{d.ENTITY: i} for i in ids]
        ).to_dict()
    )
    registry = resources["registry"]
    models = {
        f"churn:{v.version}": OnnxScorer(registry.download(v))
        for v in (registry.version_by_alias("champion"), registry.version_by_alias("challenger"))
    }
    matrix = d.encode(frame)
    for row, prediction in enumerate(body["predictions"]):
        assert not prediction["fallback"]
        expected = models[prediction["model"]].predict_proba(matrix[row : row + 1])[0]
        assert prediction["score"] == pytest.approx(float(expected), abs=1e-6)


def test_the_observed_challenger_share_matches_the_configured_share(serving):
    ids = serving.entity_ids[:2_000]
    predictions = []
    for start in range(0, len(ids), 100):
        predictions += _predict(serving, entity_ids=ids[start : start + 100]).json()["predictions"]
    hits = sum(p["arm"] == CHALLENGER for p in predictions)
    assert stats.binomtest(hits, len(predictions), 0.3).pvalue > 0.001, hits
    again = _predict(serving, entity_ids=ids[:100]).json()["predictions"]
    assert [p["arm"] for p in again] == [p["arm"] for p in predictions[:100]], "routing must be sticky"


@pytest.mark.reliability
def test_killing_triton_during_a_burst_fails_no_request_and_the_server_recovers(serving):
    stack = serving.stack
    statuses, fallbacks, stop = [], [], threading.Event()

    def burst() -> None:
        i = 0
        while not stop.is_set():
            response = _predict(serving, entity_ids=[serving.entity_ids[i % 500]])
            statuses.append(response.status_code)
            if response.status_code == 200:
                fallbacks.append(response.json()["predictions"][0]["fallback"])
            i += 1

    worker = threading.Thread(target=burst)
    worker.start()
    time.sleep(0.5)
    stack.triton.kill()
    with contextlib.suppress(TimeoutError):  # the assertions below say what did not recover
        wait_until(lambda: stack.restarts and stack.triton.server_ready(), 60, 0.2, "Triton restarted and ready")
    time.sleep(1.0)
    stop.set()
    worker.join(30)
    assert statuses and set(statuses) == {200}, f"{len(statuses)} requests, statuses {set(statuses)}"
    assert any(fallbacks), "no request was served by the fallback while Triton was down"
    assert stack.restarts >= 1
    after = _predict(serving, entity_ids=serving.entity_ids[:20]).json()["predictions"]
    assert not any(p["fallback"] for p in after), "Triton is back but requests still fall back"


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        ({}, 422, "entity_ids"),
        ({"entity_ids": []}, 422, "entity_ids"),
        ({"entity_ids": ["abc"]}, 422, "entity_ids"),
        ({"entity_ids": [1], "rows": [{}]}, 422, "exactly one"),
        ({"entity_id": 3}, 422, "entity_id"),
        ({"rows": [{"tenure_months": 3}]}, 422, "monthly_charges"),
        ({"entity_ids": [999_999_999]}, 404, "999999999"),
        ({"entity_ids": list(range(2_000))}, 422, "entity_ids"),
    ],
    ids=[
        "empty",
        "no-ids",
        "wrong-type",
        "both-sources",
        "unknown-field",
        "missing-feature",
        "unknown-entity",
        "oversized-batch",
    ],
)
def test_malformed_requests_get_a_4xx_naming_the_problem(serving, body, status, names):
    response = _predict(serving, **body)
    assert response.status_code == status
    assert names in response.text


def test_a_row_with_a_non_finite_or_text_value_is_refused_by_field(serving):
    row = feature_row()
    bad = row | {"sessions_30d": "many"}
    response = _predict(serving, rows=[row, bad])
    assert response.status_code == 422 and "rows[1]" in response.text


@pytest.mark.reliability
def test_an_oversized_body_is_refused_before_parsing(serving):
    response = serving.client.post(
        "/v1/predict", content=b"{" + b" " * (2 << 20) + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.reliability
def test_an_oversized_chunked_body_without_a_length_is_cut_off_at_the_limit(serving):
    def chunks():
        yield b'{"entity_ids": ['
        for _ in range(200_000):  # ~2.2 MB, over the 1 MiB limit, sent without Content-Length
            yield b"1234567890,"
        yield b"1]}"

    response = serving.client.post("/v1/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "Content Too Large" in response.text


def test_feature_rows_are_scored_like_entity_lookups(serving):
    row = feature_row(2.0, category=-1)
    body = _predict(serving, rows=[row]).json()
    assert 0.0 <= body["predictions"][0]["score"] <= 1.0


def test_health_readiness_and_prometheus_metrics(serving):
    assert serving.client.get("/healthz").json() == {"status": "ok"}
    ready = serving.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    metrics = serving.client.get("/metrics").text
    for series in (
        "mlops_gateway_latency_seconds_bucket",
        "mlops_prediction_score_bucket",
        "mlops_gateway_requests_total",
        "mlops_gateway_challenger_share",
    ):
        assert series in metrics


def test_every_prediction_is_logged_for_monitoring(serving):
    before = len(serving.stack.gateway.log.read()) if not serving.stack.gateway.log.read().empty else 0
    _predict(serving, entity_ids=serving.entity_ids[:25])
    serving.stack.gateway.log.flush()
    log = serving.stack.gateway.log.read()
    assert len(log) >= before + 25
    assert {"entity_id", "arm", "model", "score", "latency_ms", "fallback", "salt", "monthly_charges"} <= set(
        log.columns
    )
    assert np.isfinite(log["score"]).all()


def test_the_prediction_drift_report_reads_the_scores_the_gateway_logged(serving):
    from mlops_assets.monitoring.assets import _logged_scores

    _predict(serving, entity_ids=serving.entity_ids[:30])
    serving.stack.gateway.log.flush()
    log = serving.stack.gateway.log.read()
    today = log["event_day"].max()
    champion = log[(log["event_day"] == today) & (log["arm"] == "champion")]
    scores = _logged_scores(serving.defs.resources["serving"], today)
    assert scores is not None and len(scores) == len(champion) > 0
    assert np.allclose(np.sort(scores), np.sort(champion["score"].to_numpy()))
