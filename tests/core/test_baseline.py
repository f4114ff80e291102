import datetime as dt

import numpy as np
from sklearn.metrics import roc_auc_score

from mlops_assets.core import domain as d
from mlops_assets.core.baseline import baseline_scores
from mlops_assets.ingestion.generator import generate_day


def test_the_fallback_baseline_is_better_than_chance_and_near_the_base_rate():
    frame = generate_day(dt.date(2026, 1, 3), rows=3_000)
    scores = baseline_scores(d.encode(frame))
    assert roc_auc_score(frame[d.LABEL], scores) > 0.6
    assert abs(scores.mean() - frame[d.LABEL].mean()) < 0.1


def test_the_baseline_answers_rows_with_missing_values():
    matrix = np.full((3, len(d.MODEL_FEATURES)), np.nan, dtype=np.float32)
    scores = baseline_scores(matrix)
    assert np.isfinite(scores).all() and scores.dtype == np.float32
