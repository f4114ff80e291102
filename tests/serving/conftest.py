"""A running serving stack (real Triton + gateway) over its own small platform with champion and challenger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pandas as pd
import pytest

from mlops_assets.deployment.assets import CanaryConfig
from mlops_assets.serving.stack import ServingStack
from mlops_assets.training.assets import TrainingConfig
from tests.lifecycle_runs import auto_approval, build_downstream, ingest_days
from tests.lifecycle_state import DOWNSTREAM, make_definitions

RETRAIN = dg.AssetSelection.assets("trained_model", "model_evaluation", "registered_model")
DEPLOY = dg.AssetSelection.assets("triton_model_repository", "canary_deployment")


@dataclass
class Serving:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    stack: ServingStack
    client: httpx.Client
    entity_ids: list[int]
    data_dir: Path

    def deploy(self, share: float = 0.3) -> dg.ExecuteInProcessResult:
        config = dg.RunConfig(ops={"canary_deployment": CanaryConfig(challenger_share=share)})
        return build_downstream(self.defs, self.instance, config, selection=DEPLOY, quiet=True)


@pytest.fixture(scope="package")
def serving(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("serving")
    defs = make_definitions(data_dir)
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("serving_home"))) as instance:
        ingest_days(defs, instance, "2026-01-01", "2026-01-10", {"rows_per_day": 600}, quiet=True)
        build_downstream(defs, instance, auto_approval(), selection=DOWNSTREAM, quiet=True)
        challenger = dg.RunConfig(ops={"trained_model": TrainingConfig(seed=7, max_iter=60)})
        build_downstream(defs, instance, challenger, selection=RETRAIN, quiet=True)
        resources = defs.resources
        stack = ServingStack(resources["serving"], resources["feast"]).start()
        snapshots = pd.read_parquet(resources["feast"].source_path)
        ids = snapshots["customer_id"].drop_duplicates().tolist()
        client = httpx.Client(base_url=stack.url, timeout=10)
        state = Serving(defs, instance, stack, client, ids, data_dir)
        state.deploy()
        try:
            yield state
        finally:
            client.close()
            stack.stop()
