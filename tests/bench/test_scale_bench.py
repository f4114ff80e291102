"""The scale bench's rows: each stage against itself at the previous size, the join's 100x growth targeted."""

from __future__ import annotations

import pytest

from bench import scale_bench


def _results(factors: list[int]) -> dict[int, dict[str, dict[str, float]]]:
    return {f: {s: {"seconds": 2.0 * f, "peak_rss_mb": 300.0 + f} for s, _, _ in scale_bench.STAGES} for f in factors}


def test_each_row_compares_a_stage_with_itself_at_the_previous_size():
    rows = {row["figure"]: row for row in scale_bench.rows_for(_results([1, 10, 100]))}

    join = rows["100x training_dataset (s)"]
    assert (join["value"], join["baseline"], join["baseline_name"], join["target"]) == (
        200.0,
        20.0,
        "same stage at 10x",
        "<= 12",
    )
    assert rows["10x training_dataset (s)"]["target"] == "-"
    assert rows["10x validate_events (peak RSS, MB)"]["baseline"] == 301.0
    assert rows["100x all stages, 150,000 rows/day (s)"]["baseline"] == 20.0 * len(scale_bench.STAGES)


def test_the_sizes_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(scale_bench.SIZES_ENV, "10, 1")
    assert scale_bench.sizes() == [1, 10]
    monkeypatch.delenv(scale_bench.SIZES_ENV)
    assert scale_bench.sizes() == [1, 10, 100]


@pytest.mark.parametrize("raw", ["ten", "0", ""])
def test_bad_sizes_name_the_variable(monkeypatch, raw: str):
    monkeypatch.setenv(scale_bench.SIZES_ENV, raw)
    with pytest.raises(SystemExit, match=scale_bench.SIZES_ENV):
        scale_bench.sizes()
