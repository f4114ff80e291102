"""Same seed and same dataset version give the same model, byte for byte; a different seed does not."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from mlops_assets.core import domain as d
from mlops_assets.datasets.dataset_split import SPLIT
from mlops_assets.training.model_artifact import Hyperparameters, sha256_bytes, to_onnx_bytes, train
from mlops_assets.training.model_record import ModelRecord
from resources.record_io_manager import read_record
from tests.lifecycle_runs import build_downstream
from tests.lifecycle_state import Lifecycle

pytestmark = pytest.mark.slow


def _train_rows(lifecycle: Lifecycle, version: str) -> pd.DataFrame:
    dataset = lifecycle.resources["lake"].read_parquet("datasets", version, "dataset.parquet")
    rows = dataset[dataset[SPLIT] == "train"]
    assert len(rows) > 1_000
    return rows


def _sha(rows: pd.DataFrame, params: Hyperparameters) -> str:
    return sha256_bytes(to_onnx_bytes(train(d.encode(rows), rows[d.LABEL].to_numpy(), params)))


def test_retraining_from_the_registry_record_reproduces_the_registered_hash(lifecycle: Lifecycle):
    # given the champion's registry record: dataset version and hyperparameters, seed included
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    rows = _train_rows(lifecycle, champion.tags["data.dataset_version"])
    params = Hyperparameters(**json.loads(champion.tags["train.params"]))
    # when the model is trained again outside Dagster, then the artifact is byte-identical
    assert _sha(rows, params) == champion.tags["weights.sha256"]


def test_materializing_the_model_again_with_the_same_config_gives_the_same_artifact(lifecycle: Lifecycle):
    lake = lifecycle.resources["lake"]
    first = lifecycle.metadata("trained_model")
    # when trained_model is materialized again in the same instance with the default (same) config
    build_downstream(
        lifecycle.defs,
        lifecycle.instance,
        dg.RunConfig(ops={"trained_model": {"config": {}}}),
        selection=dg.AssetSelection.assets("trained_model"),
        quiet=True,
    )
    # then the candidate record points at the same bytes as the first run's model
    record = read_record(lake, "trained_model", ModelRecord)
    assert record.dataset_version == first["dataset_version"]
    assert record.sha256 == first["sha256"]
    assert record.dagster_run_id != lifecycle.downstream.run_id, "the model was not trained again"


def test_a_different_training_set_gives_a_different_hash(lifecycle: Lifecycle):
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    rows = _train_rows(lifecycle, champion.tags["data.dataset_version"])
    params = Hyperparameters(max_iter=20)
    assert _sha(rows, params) != _sha(rows.sample(frac=0.9, random_state=0), params)


def test_a_different_seed_gives_a_different_hash(lifecycle: Lifecycle):
    champion = lifecycle.resources["registry"].version_by_alias("champion")
    rows = _train_rows(lifecycle, champion.tags["data.dataset_version"])
    assert _sha(rows, Hyperparameters(max_iter=20, seed=42)) != _sha(rows, Hyperparameters(max_iter=20, seed=7))
