"""Segment-level drift: a shift confined to one age band is found in that band and only there."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import Scenario, generate_day
from mlops_assets.monitoring.segment_profiles import save_profiles, segment_drift

COLUMNS = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
SHIFTED = "30-44"


def test_a_shift_in_one_segment_is_flagged_for_that_segment_only(tmp_path):
    reference = pd.concat([generate_day(dt.date(2026, 1, 1) + dt.timedelta(days=i), rows=3_000) for i in range(3)])
    path = str(tmp_path / "champion.profile")
    _, segments = save_profiles(reference, COLUMNS, path)
    assert set(segments) == set(d.SEGMENT_CATEGORIES)

    normal = generate_day(dt.date(2026, 1, 10), rows=6_000)
    shifted = generate_day(dt.date(2026, 1, 10), rows=6_000, scenario=Scenario.COVARIATE_SHIFT)
    current = pd.concat(
        [normal[normal[d.SEGMENT] != SHIFTED], shifted[shifted[d.SEGMENT] == SHIFTED]], ignore_index=True
    )
    verdicts = segment_drift(path, current, COLUMNS, alpha=0.01)

    assert verdicts[SHIFTED]["drifted"] is True
    assert [s for s, v in verdicts.items() if v["drifted"]] == [SHIFTED]
    assert all(v["rows"] >= 200 for v in verdicts.values())


def test_segments_with_too_few_rows_are_not_judged_on_their_own(tmp_path):
    reference = generate_day(dt.date(2026, 1, 1), rows=3_000)
    path = str(tmp_path / "champion.profile")
    save_profiles(reference, COLUMNS, path)
    tiny = generate_day(dt.date(2026, 1, 2), rows=300)  # the largest band holds ~35% of 300 rows
    assert tiny[d.SEGMENT].value_counts().max() < 200
    assert segment_drift(path, tiny, COLUMNS, alpha=0.01) == {}
