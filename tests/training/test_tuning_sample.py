"""Tuning on a sample: beyond ``tuning_max_rows`` trials fit on a seeded sample, the final model on every row."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pytest

from mlops_assets.training.assets import TrainingConfig
from mlops_assets.training.model_record import ModelRecord
from mlops_assets.training.tuning import sample_rows
from resources.record_io_manager import read_record
from tests.lifecycle_runs import build_downstream
from tests.lifecycle_state import Lifecycle


def test_rows_within_the_cap_are_all_kept():
    assert sample_rows(1_000, 1_000, seed=1) is None


@pytest.mark.parametrize(("rows", "cap", "seed"), [(10, 3, 0), (5_000, 1_234, 7), (1_000_000, 100_000, 42)])
def test_a_sample_is_distinct_in_order_and_the_same_for_the_same_seed(rows, cap, seed):
    picked = sample_rows(rows, cap, seed)

    assert len(picked) == cap and picked[0] >= 0 and picked[-1] < rows
    assert np.all(np.diff(picked) > 0)
    np.testing.assert_array_equal(picked, sample_rows(rows, cap, seed))


def test_a_cap_below_one_row_is_refused():
    with pytest.raises(ValueError, match="max_rows must be at least 1"):
        sample_rows(10, 0, seed=1)


@pytest.mark.slow
def test_trials_use_the_sample_and_the_run_records_its_size(lifecycle: Lifecycle):
    config = dg.RunConfig(ops={"trained_model": TrainingConfig(tuning_trials=1, tuning_max_rows=500)})
    result = build_downstream(
        lifecycle.defs, lifecycle.instance, config, selection=dg.AssetSelection.assets("trained_model"), quiet=True
    )

    meta = result.asset_materializations_for_node("trained_model")[0].metadata
    study = meta["tuning"].value
    assert study["train_rows"] == study["validation_rows"] == 500
    mlflow = lifecycle.resources["mlflow"]
    params = mlflow.client().get_run(mlflow.run_for(result.run_id, run_name="unused")).data.params
    assert (params["tuning_max_rows"], params["tuning_train_rows"], params["tuning_validation_rows"]) == (
        "500",
        "500",
        "500",
    )
    # the final model still trained on every train row
    record = read_record(lifecycle.resources["lake"], "trained_model", ModelRecord)
    assert record.metrics["train_rows"] > 500
