import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.monitoring.concept_drift import log_loss_per_row, page_hinkley, performance_drop
from mlops_assets.training.model_artifact import Hyperparameters, OnnxScorer, to_onnx_bytes, train


@pytest.fixture(scope="module")
def scorer():
    history = pd.concat([generate_day(dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(6)])
    model = train(d.encode(history), history[d.LABEL].to_numpy(), Hyperparameters(max_iter=60))
    return OnnxScorer(to_onnx_bytes(model))


def _labelled(scorer, day, scenario="none"):
    frame = generate_day(day, rows=3_000, scenario=scenario)
    return frame[d.LABEL].to_numpy(), scorer.predict_proba(d.encode(frame))


def test_a_concept_shift_raises_the_error_rate_significantly(scorer):
    reference = _labelled(scorer, dt.date(2026, 1, 8))
    drop = performance_drop(reference, _labelled(scorer, dt.date(2026, 1, 9), "concept_shift"))
    assert drop.drifted and drop.p_value < 1e-6 and drop.current_auc < drop.reference_auc - 0.1


def test_an_ordinary_day_is_not_concept_drift(scorer):
    reference = _labelled(scorer, dt.date(2026, 1, 8))
    assert not performance_drop(reference, _labelled(scorer, dt.date(2026, 1, 9))).drifted


def test_page_hinkley_fires_after_the_loss_rises_and_not_before(scorer):
    before = _labelled(scorer, dt.date(2026, 1, 8))
    after = _labelled(scorer, dt.date(2026, 1, 9), "concept_shift")
    losses = np.concatenate([log_loss_per_row(*before), log_loss_per_row(*after)])
    fired = page_hinkley(losses)
    assert fired is not None and 3_000 <= fired < 4_500
    assert page_hinkley(log_loss_per_row(*before)) is None


def test_windows_without_labels_are_refused():
    with pytest.raises(ValueError, match="labelled rows"):
        performance_drop((np.array([]), np.array([])), (np.array([1]), np.array([0.3])))
